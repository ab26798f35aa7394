// Numbers and dates for people: 1,234 / 12.3k / 1.2M, "41.5 %", and the
// API's UTC DateTime values shown in the chosen time zone.

const UNITS = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];

// A count: exact below 10,000 (with separators), else three digits and a unit.
export function count(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const a = Math.abs(n);
  if (a < 10000) return n.toLocaleString('en-US');
  for (let i = 0; i < UNITS.length; ++i) {
    const [value, unit] = UNITS[i];
    if (a < value) continue;
    const x = n / value;
    const digits = Math.abs(x) >= 100 ? 0 : 1;
    const text = x.toFixed(digits);
    // 999.96k rounds to 1000k: say 1M instead.
    if (i > 0 && Math.abs(Number(text)) >= 1000) return (n / UNITS[i - 1][0]).toFixed(1) + UNITS[i - 1][1];
    return text.replace(/\.0$/, '') + unit;
  }
  return String(n);
}

// A rate in [0, 1] as a percentage with one decimal: "41.5 %".
export function percent(rate) {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  return (rate * 100).toFixed(1) + ' %';
}

// Seconds as the largest whole unit: "1 day", "90 min", "45 s".
export function duration(seconds) {
  const units = [[86400, 'day'], [3600, 'hour'], [60, 'min']];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n > 1 && name !== 'min' ? 's' : ''}`;
    }
  }
  return `${seconds} s`;
}

const formatters = new Map();
function formatterFor(tz) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  return f;
}

// Whether the browser knows the IANA zone `tz`.
export function knownZone(tz) {
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

// A UTC DateTime of the API ("YYYY-MM-DD HH:MM:SS") as wall-clock time in
// `tz` ("YYYY-MM-DD HH:MM:SS"); the text as it is when the zone is unknown.
export function utcToZone(text, tz) {
  if (!text || !tz || tz === 'UTC' || !knownZone(tz)) return text;
  const date = new Date(text.replace(' ', 'T') + 'Z');
  if (Number.isNaN(date.getTime())) return text;
  const parts = {};
  for (const p of formatterFor(tz).formatToParts(date)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

// A DateTime to the minute ("2025-06-01 14:05"), in `tz` when it is UTC text.
export function dateTime(text, tz) {
  const local = utcToZone(text, tz);
  return local ? local.slice(0, 16) : '—';
}

// A period of a timeline (local already) as short as its granularity allows.
export function period(text, granularity) {
  if (!text) return '';
  switch (granularity) {
    case 'hour': return text.slice(0, 16);
    case 'month': return text.slice(0, 7);
    default: return text.slice(0, 10);
  }
}
