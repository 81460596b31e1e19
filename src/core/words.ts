/** Words that agree with their numbers, for messages and reports. */

const IRREGULAR: Readonly<Record<string, string>> = { policy: 'policies', identity: 'identities', address: 'addresses', entry: 'entries', is: 'are', was: 'were' };

/** The plural of an English noun as trailhound uses them (`event` → `events`, `policy` → `policies`). */
export function pluralOf(word: string): string {
  return IRREGULAR[word] ?? (/(s|x|ch|sh)$/.test(word) ? `${word}es` : `${word}s`);
}

/**
 * A count with its noun in the right number, grouped by thousands: `1 event`, `2,095 events`.
 * @example counted(1, 'finding') === '1 finding'
 */
export function counted(count: number, word: string, plural: string = pluralOf(word)): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? word : plural}`;
}
