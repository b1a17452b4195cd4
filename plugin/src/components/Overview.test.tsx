import React from 'react';
import { MemoryRouter } from 'react-router-dom';
import { render, screen } from '@testing-library/react';
import { Overview } from './Overview';
import { testIds } from './testIds';

describe('Overview page', () => {
  it('links to the bundled dashboards by uid and to adding the data source', () => {
    render(
      <MemoryRouter>
        <Overview />
      </MemoryRouter>
    );
    expect(screen.getByTestId(testIds.overview.container)).toBeInTheDocument();
    expect(screen.getByText('Login activity').closest('a')).toHaveAttribute('href', '/d/authwatch-login-activity');
    expect(screen.getByText('Collector health').closest('a')).toHaveAttribute('href', '/d/authwatch-collector-health');
    expect(screen.getByTestId(testIds.overview.addDatasource)).toHaveAttribute(
      'href',
      '/connections/datasources/authwatch-activity-datasource'
    );
  });

  it('uses the uids the bundled dashboards really have', () => {
    const uids = ['login-activity', 'collector-health'].map(
      (name) => (require(`../dashboards/${name}.json`) as { uid: string }).uid
    );
    expect(uids).toEqual(['authwatch-login-activity', 'authwatch-collector-health']);
  });
});
