// Directives Python's strptime (GE's reference) and DuckDB's strptime both understand; `%-d`
// style (no padding) is DuckDB's and accepted too.
const DIRECTIVES = new Set('aAwdbBmyYHIpMSfzZjUWcxXGuV%'.split(''));
const UNPADDED = new Set('dmyHIMSj'.split(''));

/** Problems with a `strftime_format`: directives neither Python nor DuckDB can parse with. */
export function strftimeProblems(format: string): string[] {
  const problems: string[] = [];
  for (let index = 0; index < format.length; index++) {
    if (format[index] !== '%') continue;
    const directive = format[index + 1];
    if (directive === '-' && UNPADDED.has(format[index + 2] ?? '')) {
      index += 2;
      continue;
    }
    if (directive === undefined) {
      problems.push('`strftime_format` ends with a lone `%`');
      break;
    }
    if (!DIRECTIVES.has(directive)) {
      problems.push(
        `\`strftime_format\` uses \`%${directive}\`, which cannot be used to parse values (supported: %Y %m %d %H %M %S %f %z %b %B %a %A %p %I %j …)`,
      );
    }
    index++;
  }
  return problems;
}
