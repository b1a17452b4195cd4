import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import type { DataSourceSettings } from '@grafana/data';
import { ConfigEditor } from './ConfigEditor';
import type { AuthwatchOptions, AuthwatchSecureOptions } from '../types';

function options(
  overrides: Partial<DataSourceSettings<AuthwatchOptions, AuthwatchSecureOptions>> = {}
): DataSourceSettings<AuthwatchOptions, AuthwatchSecureOptions> {
  return {
    id: 1,
    uid: 'aw1',
    orgId: 1,
    name: 'Authwatch',
    type: 'authwatch-activity-datasource',
    typeName: 'Authwatch',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- still required by the 12.4 type
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData: { url: 'http://collector:4600' },
    secureJsonFields: {},
    ...overrides,
  };
}

describe('ConfigEditor', () => {
  it('stores the URL in jsonData and typed keys in secureJsonData', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={options()} onOptionsChange={onOptionsChange} />);

    fireEvent.change(screen.getByLabelText(/collector url/i), { target: { value: 'http://aw:4600' } });
    expect(onOptionsChange.mock.lastCall[0].jsonData.url).toBe('http://aw:4600');

    fireEvent.change(screen.getByLabelText(/read key/i), { target: { value: 'r-secret' } });
    const withKey = onOptionsChange.mock.lastCall[0];
    expect(withKey.secureJsonData).toEqual({ readKey: 'r-secret' });
    expect(JSON.stringify(withKey.jsonData)).not.toContain('r-secret');
  });

  it('shows a saved key only as "configured", never its value, and can reset it', () => {
    const onOptionsChange = jest.fn();
    render(
      <ConfigEditor
        options={options({ secureJsonFields: { readKey: true, adminKey: false } })}
        onOptionsChange={onOptionsChange}
      />
    );
    const readKey = screen.getByLabelText(/read key/i) as HTMLInputElement;
    expect(readKey.value).toBe('configured');
    expect(readKey).toBeDisabled();
    fireEvent.click(screen.getAllByRole('button', { name: /reset/i })[0]);
    const reset = onOptionsChange.mock.lastCall[0];
    expect(reset.secureJsonFields.readKey).toBe(false);
    expect(reset.secureJsonData.readKey).toBe('');
  });

  it('toggles details and self view in jsonData', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={options()} onOptionsChange={onOptionsChange} />);
    fireEvent.click(screen.getByLabelText(/show ip, isp and location/i));
    expect(onOptionsChange.mock.lastCall[0].jsonData).toEqual({ url: 'http://collector:4600', showDetails: true });
    fireEvent.click(screen.getByLabelText(/self view/i));
    expect(onOptionsChange.mock.lastCall[0].jsonData.selfView).toBe(true);
  });
});
