/**
 * A monitored catalog repo and the real services its owners are reached through: an SMTP server
 * (smtp-server, mail parsed with mailparser) and HTTP receivers standing in for Slack, PagerDuty
 * and two webhooks, all on 127.0.0.1.
 *
 *   data/members.csv ─ ingest_members ─► care.members            (owner clinical-data)
 *                        count_members ─► analytics.member_counts (owner analytics)
 *                      report_members ─► analytics.member_report (owner analytics, subscriber ops)
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startReceiver } from '../support/notification-receivers.ts';

export const PD_ROUTING_KEY = 'R0UTINGKEY0MONITORING00000000000';
export const WEBHOOK_SECRET = 'monitoring-webhook-secret';
export const MEMBERS_CSV = 'member_id,name,dob\nm1,Ada,1980-01-02\nm2,Bo,1975-06-30\n';
export const MEMBERS_CSV_WITHOUT_DOB = 'member_id,name\nm1,Ada\nm2,Bo\n';

export interface MonitoringServices {
  mail: ParsedMail[];
  slack: Awaited<ReturnType<typeof startReceiver>>;
  pagerduty: Awaited<ReturnType<typeof startReceiver>>;
  webhook: Awaited<ReturnType<typeof startReceiver>>;
  smtpPort: number;
  /** Requests and mails received so far, all channels together. */
  total(): number;
  close(): Promise<void>;
}

export async function startMonitoringServices(): Promise<MonitoringServices> {
  const mail: ParsedMail[] = [];
  const smtp = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          mail.push(parsed);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const slack = await startReceiver(() => ({ status: 200, body: 'ok' }));
  const pagerduty = await startReceiver(() => ({ status: 202, body: '{"status":"success"}' }));
  const webhook = await startReceiver(() => ({ status: 204 }));
  return {
    mail,
    slack,
    pagerduty,
    webhook,
    smtpPort,
    total: () => mail.length + slack.requests.length + pagerduty.requests.length + webhook.requests.length,
    async close() {
      await Promise.all([slack.close(), pagerduty.close(), webhook.close()]);
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}

/** The repo's files, its channels pointing at `services`. */
export function monitoredRepo(
  services: Pick<MonitoringServices, 'smtpPort' | 'slack' | 'pagerduty' | 'webhook'>,
  extra: { freshness?: string; reminders?: string } = {},
): Record<string, string> {
  return {
    'tessera.yaml': `name: clinic
notifications:
  smtp: { url: "smtp://127.0.0.1:${services.smtpPort}", from: tessera@example.org }
  pagerduty: { events_url: "${services.pagerduty.origin}/v2/enqueue" }
  ui_url: https://tessera.example.org/
${extra.reminders ? `  reminders: { every: ${extra.reminders} }\n` : ''}`,
    'owners/owners.yaml': `kind: owner
name: clinical-data
members: [alice@example.org]
channels:
  - email: { to: [clinical-data@example.org] }
  - slack: { webhook: "\${SLACK_WEBHOOK}" }
  - pagerduty: { routing_key: "\${PD_ROUTING_KEY}", on: [task_failed, validation_failed, sla_missed] }
---
kind: owner
name: analytics
members: [bob@example.org]
channels:
  - email: { to: [analytics@example.org], on: [upstream_failed, sla_missed, recovered] }
---
kind: owner
name: ops
members: [carol@example.org]
channels:
  - webhook: { url: "${services.webhook.origin}/ops", secret: "\${HOOK_SECRET}" }
`,
    'schemas/care.proto': `syntax = "proto3";
package care;
import "tessera/options.proto";
import "google/type/date.proto";

// One member of the health plan.
message Member {
  string member_id = 1 [(tessera.field) = { primary_key: true }];
  string name = 2;
  google.type.Date dob = 3;
}
`,
    'tables/care.yaml': `kind: table
name: care.members
owner: clinical-data
schema: schemas/care.proto#care.Member
${extra.freshness ? `freshness: ${extra.freshness}\n` : ''}---
kind: table
name: analytics.member_counts
owner: analytics
---
kind: table
name: analytics.member_report
owner: analytics
subscribers: [ops]
`,
    'tasks/tasks.yaml': `kind: task
name: ingest_members
type: ingestion
target: care.members
source: { type: csv, uri: data/members.csv }
---
kind: task
name: count_members
type: projection
target: analytics.member_counts
sql: select count(*) as members from care.members
---
kind: task
name: report_members
type: projection
target: analytics.member_report
sql: select members, members > 0 as has_members from analytics.member_counts
`,
    'data/members.csv': MEMBERS_CSV,
  };
}

export function monitoredEnv(services: Pick<MonitoringServices, 'slack'>): Record<string, string> {
  return {
    SLACK_WEBHOOK: `${services.slack.origin}/services/T000/B000/slacksecret`,
    PD_ROUTING_KEY,
    HOOK_SECRET: WEBHOOK_SECRET,
  };
}
