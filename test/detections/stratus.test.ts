/**
 * Every AWS technique of Stratus Red Team, as its detonation log records it, raises an alert of
 * medium severity or above on the technique's key event. The logs (Apache-2.0) are read in place
 * from ../shared/datasets/stratus-red-team/ and never copied here; without them the test reports
 * itself skipped with the reason.
 */
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupAlerts } from '../../src/detect/alerts.js';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { atLeast, runDetections } from '../../src/detect/runner.js';
import { Store } from '../../src/store/store.js';
import { ingest } from '../helpers/store.js';

const QUERIES = join(import.meta.dirname, '..', '..', 'queries');
// ../shared/datasets beside the package root, as in CI; TRAILHOUND_DATASETS points elsewhere (a worktree).
const DATASETS = process.env['TRAILHOUND_DATASETS'] ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets');
const LOGS = join(DATASETS, 'stratus-red-team');
const present = existsSync(LOGS);
if (!present) console.warn(`Stratus Red Team test skipped: ${LOGS} is not present (it comes with ../shared/datasets in CI)`);

/** The event that is the technique, by technique id (what an analyst must see flagged). */
const KEY_EVENTS: Readonly<Record<string, readonly string[]>> = {
  'aws.credential-access.ec2-get-password-data': ['GetPasswordData'],
  'aws.credential-access.ec2-steal-instance-credentials': ['GetCallerIdentity', 'DescribeInstances'],
  'aws.credential-access.secretsmanager-batch-retrieve-secrets': ['BatchGetSecretValue'],
  'aws.credential-access.secretsmanager-retrieve-secrets': ['GetSecretValue'],
  'aws.credential-access.ssm-retrieve-securestring-parameters': ['GetParameters'],
  'aws.defense-evasion.cloudtrail-delete': ['DeleteTrail'],
  'aws.defense-evasion.cloudtrail-event-selectors': ['PutEventSelectors'],
  'aws.defense-evasion.cloudtrail-stop': ['StopLogging'],
  'aws.defense-evasion.dns-delete-logs': ['DeleteResolverQueryLogConfig'],
  'aws.defense-evasion.organizations-leave': ['LeaveOrganization'],
  'aws.defense-evasion.vpc-remove-flow-logs': ['DeleteFlowLogs'],
  'aws.discovery.ec2-download-user-data': ['DescribeInstanceAttribute'],
  'aws.execution.ec2-launch-unusual-instances': ['RunInstances'],
  'aws.execution.ec2-user-data': ['ModifyInstanceAttribute'],
  'aws.execution.ssm-send-command': ['SendCommand'],
  'aws.execution.ssm-start-session': ['StartSession'],
  'aws.exfiltration.ec2-security-group-open-port-22-ingress': ['AuthorizeSecurityGroupIngress'],
  'aws.exfiltration.ec2-share-ami': ['ModifyImageAttribute'],
  'aws.exfiltration.ec2-share-ebs-snapshot': ['ModifySnapshotAttribute'],
  'aws.exfiltration.rds-share-snapshot': ['ModifyDBSnapshotAttribute'],
  'aws.impact.bedrock-invoke-model': ['PutFoundationModelEntitlement', 'PutUseCaseForModelAccess', 'CreateFoundationModelAgreement', 'InvokeModel'],
  'aws.initial-access.console-login-without-mfa': ['ConsoleLogin'],
  'aws.lateral-movement.ec2-instance-connect': ['SendSSHPublicKey'],
  'aws.lateral-movement.ec2-serial-console-send-ssh-public-key': ['SendSerialConsoleSSHPublicKey', 'EnableSerialConsoleAccess'],
  'aws.persistence.iam-backdoor-role': ['UpdateAssumeRolePolicy'],
  'aws.persistence.iam-backdoor-user': ['CreateAccessKey'],
  'aws.persistence.iam-create-admin-user': ['AttachUserPolicy'],
  'aws.persistence.iam-create-backdoor-role': ['CreateRole', 'AttachRolePolicy'],
  'aws.persistence.iam-create-user-login-profile': ['CreateLoginProfile'],
  'aws.persistence.lambda-backdoor-function': ['AddPermission20150331v2'],
  'aws.persistence.lambda-layer-extension': ['UpdateFunctionConfiguration20150331v2'],
  'aws.persistence.lambda-overwrite-code': ['UpdateFunctionCode20150331v2'],
  'aws.persistence.rolesanywhere-create-trust-anchor': ['CreateTrustAnchor'],
  'aws.persistence.sts-federation-token': ['GetFederationToken'],
  'aws.privilege-escalation.iam-update-user-login-profile': ['UpdateLoginProfile'],
};

const techniques = present ? readdirSync(LOGS).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort() : [];

describe.skipIf(!present)('Stratus Red Team detonation logs', () => {
  const catalog = loadCatalog(QUERIES);
  const sensitive = loadSensitiveEvents(join(QUERIES, 'sensitive-events.yml'));

  it('names the key event of every technique in the dataset', () => {
    expect(techniques.filter((t) => !KEY_EVENTS[t])).toEqual([]);
  });

  it.each(techniques)('%s raises a medium+ alert on its key event', async (technique) => {
    const store = await Store.open(':memory:');
    try {
      const summary = await ingest(store, [join(LOGS, `${technique}.json`)]);
      expect(summary.eventsLoaded).toBeGreaterThan(0);
      const result = await runDetections(store, catalog, { sensitive });
      expect(result.failures).toEqual([]);
      const keys = new Set(
        (await store.all<{ eventid: string }>(`select eventid from events where list_contains($names, eventname)`, { names: listValue([...(KEY_EVENTS[technique] ?? [])]) }, { names: LIST(VARCHAR) })).map((r) => r.eventid),
      );
      expect(keys.size).toBeGreaterThan(0);
      const alerts = groupAlerts(result.findings).filter((a) => atLeast(a.severity, 'medium') && a.eventIds.some((id) => keys.has(id)));
      expect(alerts.map((a) => a.detection), `alerts: ${groupAlerts(result.findings).map((a) => `${a.detection}/${a.severity}`).join(', ')}`).not.toEqual([]);
    } finally {
      store.close();
    }
  });
});
