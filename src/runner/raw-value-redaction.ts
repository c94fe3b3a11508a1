/**
 * Ingestion names the source value of a bad row in its messages (`column ssn: value "12-3" is not
 * …`). For a table stored de-identified, raw values must not land anywhere, run logs and run errors
 * included: they are cut out of those messages.
 */

/** What a redacted source value reads as. */
const REDACTED_VALUE = 'value [not shown: the table is stored de-identified]';

/**
 * `value "…" is not …` (how ingestion quotes a source value: every check's reason reads so)
 * with the value replaced by a marker, everywhere in `message`. Non-greedy up to the `" is not` that
 * follows, so values holding quotes or line breaks are cut whole.
 */
export function redactSourceValues(message: string): string {
  return message.replace(/value "[\s\S]*?" is not/g, `${REDACTED_VALUE} is not`);
}
