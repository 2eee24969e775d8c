import { render, screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { DataTable, type Column } from './DataTable'

type Row = { id: string; name: string; requests: number }
const columns: Column<Row>[] = [
  { header: 'Name', cell: (r) => r.name },
  { header: 'Requests', cell: (r) => r.requests, numeric: true },
]

describe('DataTable', () => {
  it('renders a captioned table with a header and one row per item', () => {
    render(
      <DataTable caption="Tenants" columns={columns} rowKey={(r) => r.id} empty="none"
        rows={[{ id: '1', name: 'acme', requests: 3 }, { id: '2', name: 'globex', requests: 12 }]} />,
    )
    const table = screen.getByRole('table', { name: 'Tenants' })
    const rows = within(table).getAllByRole('row')
    expect(rows).toHaveLength(3)
    expect(within(rows[0]).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Name', 'Requests'])
    expect(within(rows[2]).getAllByRole('cell').map((c) => c.textContent)).toEqual(['globex', '12'])
    expect(within(rows[2]).getAllByRole('cell')[1]).toHaveClass('num')
  })

  it('shows the empty state instead of a bare header', () => {
    render(<DataTable caption="Tenants" columns={columns} rowKey={(r) => r.id} rows={[]} empty="No tenants yet." />)
    expect(screen.queryByRole('table')).toBeNull()
    expect(screen.getByText('No tenants yet.')).toBeInTheDocument()
  })
})
