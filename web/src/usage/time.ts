// Days in a chosen IANA timezone, which need not be the browser's: the usage API takes instants
// (with offsets) and cuts days in the `timezone` it is given, so both must agree.

/** The zone's offset from UTC at `instant`, in milliseconds (east positive). */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant)
  const field = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  const asUtc = Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second'))
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000
}

/** The instant a yyyy-mm-dd day starts in `timeZone` (DST-safe: the offset is taken at that instant). */
export function zonedMidnight(day: string, timeZone: string): Date {
  const [y, m, d] = day.split('-').map(Number)
  const wall = Date.UTC(y, m - 1, d)
  let instant = wall - zoneOffsetMs(new Date(wall), timeZone)
  // A second pass lands on the right side of an offset change between the guess and the answer.
  instant = wall - zoneOffsetMs(new Date(instant), timeZone)
  return new Date(instant)
}

/** The yyyy-mm-dd day `instant` falls on in `timeZone`. */
export function dayIn(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant)
}

/** `day` moved by `days` calendar days. */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = []
  for (let day = from; day <= to && days.length < 400; day = addDays(day, 1)) days.push(day)
  return days
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

/** The zones offered in a picker: the browser's own and UTC first, then every zone the browser knows. */
export function timeZoneChoices(): string[] {
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  return [...new Set([browserTimeZone(), 'UTC', ...known])]
}
