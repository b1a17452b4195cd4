export const testIds = {
  overview: {
    container: 'data-testid authwatch-overview',
    addDatasource: 'data-testid authwatch-add-datasource',
  },
  appConfig: {
    enable: 'data-testid authwatch-app-enable',
    disable: 'data-testid authwatch-app-disable',
  },
};
