/** One figure of a summary row, with an optional line saying what it covers. */
export function Stat({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="stat card">
      <div className="stat-label">{label}</div>
      <div className={value.length > 9 ? 'stat-value stat-value-long' : 'stat-value'}>{value}</div>
      {note && <div className="stat-note">{note}</div>}
    </div>
  )
}
