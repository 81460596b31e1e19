/**
 * What real accounts do every day, and what no detection at medium or above may shout about:
 * Terraform applies from CI, CI deploys that assume a role hundreds of times a day, SSO users
 * in the console, Auto Scaling launches, and AWS Backup jobs. Each shape follows what
 * CloudTrail records for it (the identity, the invoking service, the client).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CloudTrailRecord } from '../../src/core/record.js';
import { loadCatalog, loadSensitiveEvents } from '../../src/detect/catalog.js';
import { runDetections } from '../../src/detect/runner.js';
import { Store } from '../../src/store/store.js';
import { Random } from '../../synth/random.js';
import { assumedRoleIdentity, iamUserIdentity, makeCall, makeRecord, type RecordOverrides } from '../../synth/records.js';
import { ingest } from '../helpers/store.js';
import { Workspace, jsonLines } from '../helpers/workspace.js';

const QUERIES = join(import.meta.dirname, '..', '..', 'queries');
const catalog = loadCatalog(QUERIES);
const sensitive = loadSensitiveEvents(join(QUERIES, 'sensitive-events.yml'));

const ACCOUNT = '111122223333';
const CI_IPS = ['192.0.2.80', '192.0.2.81'];
const OFFICE_IP = '198.51.100.10';
const TERRAFORM_UA = 'APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.21.8 md/GOOS#linux md/GOARCH#amd64 api/iam#1.31.1';
const DEPLOY_UA = 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#lambda.update-function-code';
const BROWSER_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36';

const at = (day: number, hour: number, minute = 0, second = 0) => new Date(Date.UTC(2026, 2, 2 + day, hour, minute, second)).toISOString().replace('.000Z', 'Z');

function ordinaryAccount(days = 3): CloudTrailRecord[] {
  const rng = new Random('benign-accounts');
  const out: CloudTrailRecord[] = [];
  const call = (name: string, source: string, o: RecordOverrides) => out.push(makeCall(name, source, o, rng));
  const rec = (name: Parameters<typeof makeRecord>[0], o: RecordOverrides) => out.push(makeRecord(name, o, rng));

  for (let day = 0; day < days; day++) {
    // Terraform applies from CI, with a role from GitHub's OIDC provider, twice a day.
    for (const hour of [10, 16]) {
      const key = rng.accessKeyId('ASIA');
      const ip = CI_IPS[hour % 2]!;
      const who = { userIdentity: assumedRoleIdentity({ account: ACCOUNT, roleName: 'terraform-ci', sessionName: 'GitHubActions', accessKeyId: key, creationDate: at(day, hour) }), sourceIPAddress: ip, userAgent: TERRAFORM_UA };
      call('AssumeRoleWithWebIdentity', 'sts.amazonaws.com', {
        eventTime: at(day, hour),
        userIdentity: { type: 'WebIdentityUser', principalId: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:repo:acme/infra:ref:refs/heads/main', userName: 'repo:acme/infra:ref:refs/heads/main', identityProvider: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' },
        sourceIPAddress: ip,
        userAgent: 'aws-sdk-js/3.540.0',
        requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/terraform-ci', roleSessionName: 'GitHubActions' },
        responseElements: { credentials: { accessKeyId: key, expiration: 'Mar 2, 2026, 11:00:00 AM' }, assumedRoleUser: { arn: 'arn:aws:sts::111122223333:assumed-role/terraform-ci/GitHubActions' } },
      });
      const t = (m: number) => at(day, hour, 1 + m);
      const app = `app-${day}-${hour}`;
      call('CreateRole', 'iam.amazonaws.com', { ...who, eventTime: t(0), requestParameters: { roleName: `${app}-lambda`, assumeRolePolicyDocument: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }, responseElements: { role: { roleName: `${app}-lambda`, arn: `arn:aws:iam::111122223333:role/${app}-lambda` } } });
      call('AttachRolePolicy', 'iam.amazonaws.com', { ...who, eventTime: t(0), requestParameters: { roleName: `${app}-lambda`, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' } });
      call('PutRolePolicy', 'iam.amazonaws.com', { ...who, eventTime: t(1), requestParameters: { roleName: `${app}-lambda`, policyName: 'read-config', policyDocument: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:us-east-1:111122223333:parameter/app/*' }] }) } });
      call('CreateFunction20150331', 'lambda.amazonaws.com', { ...who, eventTime: t(2), requestParameters: { functionName: app, runtime: 'nodejs20.x', role: `arn:aws:iam::111122223333:role/${app}-lambda` } });
      call('CreateSecurityGroup', 'ec2.amazonaws.com', { ...who, eventTime: t(3), requestParameters: { groupName: `${app}-sg`, groupDescription: 'app', vpcId: 'vpc-0123456789abcdef0' }, responseElements: { groupId: 'sg-0123456789abcdef0' } });
      call('AuthorizeSecurityGroupIngress', 'ec2.amazonaws.com', { ...who, eventTime: t(3), requestParameters: { groupId: 'sg-0123456789abcdef0', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipRanges: { items: [{ cidrIp: '10.0.0.0/16' }] } }] } } });
      call('CreateBucket', 's3.amazonaws.com', { ...who, eventTime: t(4), requestParameters: { bucketName: `acme-${app}` } });
      call('PutBucketVersioning', 's3.amazonaws.com', { ...who, eventTime: t(4), requestParameters: { bucketName: `acme-${app}`, VersioningConfiguration: { Status: 'Enabled' } } });
      call('PutBucketEncryption', 's3.amazonaws.com', { ...who, eventTime: t(4), requestParameters: { bucketName: `acme-${app}` } });
      call('PutBucketPolicy', 's3.amazonaws.com', { ...who, eventTime: t(5), requestParameters: { bucketName: `acme-${app}`, bucketPolicy: { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::111122223333:role/${app}-lambda` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::acme-${app}/*` }] } } });
      call('PutPublicAccessBlock', 's3.amazonaws.com', { ...who, eventTime: t(5), requestParameters: { bucketName: `acme-${app}`, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } } });
      call('CreateLogGroup', 'logs.amazonaws.com', { ...who, eventTime: t(6), requestParameters: { logGroupName: `/aws/lambda/${app}` } });
      call('PutRetentionPolicy', 'logs.amazonaws.com', { ...who, eventTime: t(6), requestParameters: { logGroupName: `/aws/lambda/${app}`, retentionInDays: 30 } });
      for (const name of ['GetRole', 'GetPolicy', 'DescribeSecurityGroups', 'GetBucketPolicy', 'ListAttachedRolePolicies']) {
        call(name, name.startsWith('Describe') ? 'ec2.amazonaws.com' : name.startsWith('GetBucket') ? 's3.amazonaws.com' : 'iam.amazonaws.com', { ...who, eventTime: t(7) });
      }
    }

    // A CI user's key assumes the deploy role before each of 300 deploy steps a day.
    const ci = iamUserIdentity({ account: ACCOUNT, userName: 'ci-deploy' });
    for (let n = 0; n < 300; n++) {
      const minute = Math.floor((n * 24 * 60) / 300);
      const ip = CI_IPS[n % 2]!;
      const key = rng.accessKeyId('ASIA');
      rec('AssumeRole', { eventTime: at(day, Math.floor(minute / 60), minute % 60), userIdentity: ci, sourceIPAddress: ip, userAgent: DEPLOY_UA, requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/deploy', roleSessionName: `deploy-${n}` }, responseElements: { credentials: { accessKeyId: key } } });
      if (n % 10 === 0) {
        const deploy = { userIdentity: assumedRoleIdentity({ account: ACCOUNT, roleName: 'deploy', sessionName: `deploy-${n}`, accessKeyId: key, creationDate: at(day, Math.floor(minute / 60), minute % 60) }), sourceIPAddress: ip, userAgent: DEPLOY_UA };
        call('UpdateFunctionCode20150331v2', 'lambda.amazonaws.com', { ...deploy, eventTime: at(day, Math.floor(minute / 60), minute % 60, 20), requestParameters: { functionName: 'thumbnailer' } });
        call('PutImage', 'ecr.amazonaws.com', { ...deploy, eventTime: at(day, Math.floor(minute / 60), minute % 60, 30), requestParameters: { repositoryName: 'app', imageTag: `build-${day}-${n}` } });
      }
    }

    // Two SSO users sign in to the console every morning through IAM Identity Center.
    for (const [i, user] of ['alice@example.com', 'bob@example.com'].entries()) {
      const key = rng.accessKeyId('ASIA');
      const sso = { userIdentity: assumedRoleIdentity({ account: ACCOUNT, roleName: 'AWSReservedSSO_AdministratorAccess_0123456789abcdef', sessionName: user, accessKeyId: key, creationDate: at(day, 8 + i) }), sourceIPAddress: OFFICE_IP, userAgent: BROWSER_UA };
      call('AssumeRoleWithSAML', 'sts.amazonaws.com', {
        eventTime: at(day, 8 + i),
        userIdentity: { type: 'SAMLUser', principalId: `idc:${user}`, userName: user, identityProvider: 'arn:aws:iam::111122223333:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE' },
        sourceIPAddress: OFFICE_IP,
        userAgent: BROWSER_UA,
        requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef', principalArn: 'arn:aws:iam::111122223333:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE' },
        responseElements: { credentials: { accessKeyId: key } },
      });
      rec('ConsoleLogin', { ...sso, eventTime: at(day, 8 + i, 0, 5), additionalEventData: { MFAUsed: 'No', LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No' }, responseElements: { ConsoleLogin: 'Success' } });
      for (let m = 0; m < 20; m++) rec(m % 2 ? 'DescribeInstances' : 'ListBuckets', { ...sso, eventTime: at(day, 8 + i, 1 + m), userAgent: 'AWS Internal' });
    }

    // Auto Scaling launches and ends instances through its service-linked role.
    for (let n = 0; n < 6; n++) {
      const hour = 2 + n * 4;
      const auto = { userIdentity: assumedRoleIdentity({ account: ACCOUNT, roleName: 'AWSServiceRoleForAutoScaling', sessionName: 'AutoScaling', accessKeyId: rng.accessKeyId('ASIA'), creationDate: at(day, hour), invokedBy: 'autoscaling.amazonaws.com' }) };
      rec('RunInstances', { ...auto, eventTime: at(day, hour), awsRegion: 'eu-west-1', requestParameters: { instanceType: 'c5.xlarge', instancesSet: { items: [{ imageId: 'ami-0123456789abcdef0', minCount: 2, maxCount: 2 }] } } });
      call('TerminateInstances', 'ec2.amazonaws.com', { ...auto, eventTime: at(day, hour + 2), awsRegion: 'eu-west-1', requestParameters: { instancesSet: { items: [{ instanceId: `i-0${rng.hex(16)}` }] } } });
    }

    // AWS Backup snapshots the volumes every night and copies them to another region.
    const backup = { userIdentity: assumedRoleIdentity({ account: ACCOUNT, roleName: 'AWSBackupDefaultServiceRole', sessionName: 'AWSBackup-AWSBackupDefaultServiceRole', accessKeyId: rng.accessKeyId('ASIA'), creationDate: at(day, 3), invokedBy: 'backup.amazonaws.com' }) };
    for (let v = 0; v < 4; v++) {
      call('CreateSnapshot', 'ec2.amazonaws.com', { ...backup, eventTime: at(day, 3, v), awsRegion: 'eu-west-1', requestParameters: { volumeId: `vol-0${rng.hex(16)}`, description: 'This snapshot is created by the AWS Backup service.' }, responseElements: { snapshotId: `snap-0${rng.hex(16)}` } });
      call('CopySnapshot', 'ec2.amazonaws.com', { ...backup, eventTime: at(day, 4, v), awsRegion: 'eu-central-1', requestParameters: { sourceRegion: 'eu-west-1', sourceSnapshotId: `snap-0${rng.hex(16)}`, encrypted: true } });
      call('DeleteSnapshot', 'ec2.amazonaws.com', { ...backup, eventTime: at(day, 5, v), awsRegion: 'eu-west-1', requestParameters: { snapshotId: `snap-0${rng.hex(16)}` } });
    }
  }
  return out.sort((a, b) => (a.eventTime! < b.eventTime! ? -1 : a.eventTime! > b.eventTime! ? 1 : 0));
}

/**
 * The first Terraform apply and the first deploy in the evidence raise what they change: nothing
 * earlier shows the role making these calls with this client. Every later apply and deploy is
 * routine (the same role and client made the same call 30 minutes or more before) and low.
 */
const FIRST_APPLY = ['iam_inline_policy_put', 'iam_managed_policy_attached', 'iam_role_created', 'lambda_function_created', 's3_bucket_encryption_changed'];
const FIRST_DEPLOY = ['lambda_function_code_updated'];

describe('benign baseline: what real accounts do every day', () => {
  it('raises no alert of medium severity or above on Terraform, CI deploys, SSO console users, Auto Scaling and AWS Backup', async () => {
    const records = ordinaryAccount();
    expect(records.length).toBeGreaterThan(1000);
    const ws = new Workspace();
    const store = await Store.open(':memory:');
    try {
      await ingest(store, [ws.write('account.jsonl', jsonLines(records))]);
      const result = await runDetections(store, catalog, { minSeverity: 'medium', sensitive });
      expect(result.failures).toEqual([]);
      const firstApply = result.findings.filter((f) => f.eventTime?.startsWith(at(0, 10).slice(0, 13)) && FIRST_APPLY.includes(f.detection));
      const firstDeploy = result.findings.filter((f) => f.eventTime === at(0, 0, 0, 20) && FIRST_DEPLOY.includes(f.detection));
      expect(firstApply.map((f) => f.detection).sort()).toEqual(FIRST_APPLY);
      expect(firstDeploy.map((f) => f.detection)).toEqual(FIRST_DEPLOY);
      const unexpected = result.findings.filter((f) => !firstApply.includes(f) && !firstDeploy.includes(f));
      expect(unexpected.map((f) => `${f.detection} (${f.severity}) ${f.eventTime}: ${f.summary}`)).toEqual([]);
      // The routine repeats are still findings, low: queryable, not alerts.
      const all = await runDetections(store, catalog, { sensitive });
      expect(all.findings.filter((f) => f.detection === 'lambda_function_code_updated' && f.severity === 'low').length).toBeGreaterThan(80);
    } finally {
      store.close();
      ws.dispose();
    }
  });
});
