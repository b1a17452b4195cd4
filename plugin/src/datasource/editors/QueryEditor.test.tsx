import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { QueryEditor } from './QueryEditor';
import type { DataSource } from '../datasource';
import type { AuthwatchQuery } from '../types';

function renderEditor(query: AuthwatchQuery) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  render(<QueryEditor datasource={{} as DataSource} query={query} onChange={onChange} onRunQuery={onRunQuery} />);
  return { onChange, onRunQuery };
}

describe('QueryEditor', () => {
  it('commits a filter on blur (not per keystroke) and runs the query', () => {
    const { onChange, onRunQuery } = renderEditor({ refId: 'A', queryType: 'events' });
    const user = screen.getByPlaceholderText('alice or $user');
    fireEvent.change(user, { target: { value: '$user' } });
    expect(onChange).not.toHaveBeenCalled();
    fireEvent.blur(user);
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'events', user: '$user' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('switches events between table and logs', () => {
    const { onChange } = renderEditor({ refId: 'A', queryType: 'events', format: 'table' });
    fireEvent.click(screen.getByLabelText('Logs'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'events', format: 'logs' });
  });

  it('shows only the filters the collector applies to the query type', () => {
    renderEditor({ refId: 'A', queryType: 'sessions' });
    expect(screen.getByPlaceholderText('alice or $user')).toBeInTheDocument();
    expect(screen.queryByPlaceholderText('203.0.113.7')).not.toBeInTheDocument();
    expect(screen.getByLabelText('Ended')).toBeInTheDocument();
  });

  it('offers all filters for time series, and the grouping', () => {
    renderEditor({ refId: 'A', queryType: 'timeseries', groupBy: 'country' });
    expect(screen.getByPlaceholderText('203.0.113.7')).toBeInTheDocument();
    expect(screen.getByDisplayValue('Country')).toBeInTheDocument();
  });
});
