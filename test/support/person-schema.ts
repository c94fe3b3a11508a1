/**
 * Test repo files for governance tests: an owner, and a `people.Person` schema whose PHI fields
 * carry HASH, REDACT and DATE_YEAR masks (and ZIP3 when asked).
 */

export const TEAM_OWNER = 'kind: owner\nname: team\nmembers: [team@example.org]\n';

export function personSchema(options: { zip?: boolean } = {}): string {
  const fields = [
    'string person_id = 1 [(tessera.field) = { primary_key: true }];',
    'string ssn = 2 [(tessera.field) = { sensitivity: PHI, mask: HASH }];',
    'string name = 3 [(tessera.field) = { sensitivity: PHI, mask: REDACT }];',
    'google.type.Date birth_date = 4 [(tessera.field) = { sensitivity: PHI, mask: DATE_YEAR }];',
    ...(options.zip ? ['string zip = 5 [(tessera.field) = { sensitivity: PHI, mask: ZIP3 }];'] : []),
    `string state = ${options.zip ? 6 : 5};`,
  ];
  return `syntax = "proto3";
package people;
import "tessera/options.proto";
import "google/type/date.proto";

// One person.
message Person {
${fields.map((field) => `  ${field}`).join('\n')}
}
`;
}
