#!/bin/sh
# Remediation plan written by trailhound. Every command is commented out: read each one,
# check it against the evidence, then uncomment and run it yourself with credentials that
# are not the compromised ones. trailhound never changes the account.
# Containment time used in the session deny policies: 2026-03-06T12:00:00Z
# Exposed keys: AKIAQ3EGRV7XCIDEPLOY
# Account snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z, account 111122223333): 9 open, 3 done, 12 unknown.
set -eu

# ==========================================================================================
# Step 1. Exposed access keys
# Replace, then deactivate (do not delete yet) each exposed key; check the application still
# works; delete the key later. Root access keys are deleted outright.
# ==========================================================================================

# [create-replacement-key] arn:aws:iam::111122223333:user/ci-deploy
#   If an application needs the user's access, create its replacement key first and deploy it (the
#   secret is shown once).
#   Now: unknown, the snapshot does not read what this action changes
#   evidence: a1d01afb-6206-4d56-9bb3-b4ee37ef6692 079c6fa9-32ba-401a-8ed8-f63b0ec0d790
#   736c74cf-0413-4278-83fb-7dce82b42fca 7c83c0b6-856a-4791-a70f-34029b94bc50
#   cc4c593d-55af-427a-82cd-d7b30c6b57c3 6e4bbfe9-f04f-4778-9a44-2d278ad39f78
#   9103f43b-c669-4056-9e93-bea25e5ca883 7d8cacd6-ce0a-47fb-943c-9e3250b3b496
#   e11cbc59-7b66-4ca6-b793-0a905ce4d2b0 7f31fee9-0621-4260-9884-2be2bfc366c8
#   ce9f56d0-87ed-47a2-a68d-c39275a48307 dd66370a-92dd-4ec0-9263-5e69fce4a004
#   f95ad881-ba3b-477f-a9a5-bf41c677a6ba 2d181973-ef7d-4613-bbee-482afa1a5650
#   8cb6cfe4-0ff4-43fc-bb43-5ed352cc3620 0b7d25d8-28b1-4afa-9c07-4d66f1d28d97
#   ef36e123-d9d3-4c71-8e49-c7aff48d000e 624e9aa6-9381-4e63-bd45-d0963b2007da
#   fc944db2-2bb4-4a51-b8e4-0f3cede28efa a06ce2e9-1adb-4e54-bf54-3486da8c515d
#   16dd1640-7112-4f53-a2ea-05cc1ed2d212 f7a380b8-ebf2-433a-912e-cdea1da029c9
# aws iam create-access-key --user-name=ci-deploy

# [deactivate-access-key] AKIAQ3EGRV7XCIDEPLOY
#   Access key AKIAQ3EGRV7XCIDEPLOY of user ci-deploy is exposed: 23 call(s) in the evidence from
#   203.0.113.77; usable: never deactivated or deleted in the evidence. Deactivate it; deactivation
#   can be undone, deletion cannot.
#   Now: done, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): access key
#   AKIAQ3EGRV7XCIDEPLOY is Inactive
#   evidence: a1d01afb-6206-4d56-9bb3-b4ee37ef6692 079c6fa9-32ba-401a-8ed8-f63b0ec0d790
#   736c74cf-0413-4278-83fb-7dce82b42fca 7c83c0b6-856a-4791-a70f-34029b94bc50
#   cc4c593d-55af-427a-82cd-d7b30c6b57c3 6e4bbfe9-f04f-4778-9a44-2d278ad39f78
#   9103f43b-c669-4056-9e93-bea25e5ca883 7d8cacd6-ce0a-47fb-943c-9e3250b3b496
#   e11cbc59-7b66-4ca6-b793-0a905ce4d2b0 7f31fee9-0621-4260-9884-2be2bfc366c8
#   ce9f56d0-87ed-47a2-a68d-c39275a48307 dd66370a-92dd-4ec0-9263-5e69fce4a004
#   f95ad881-ba3b-477f-a9a5-bf41c677a6ba 2d181973-ef7d-4613-bbee-482afa1a5650
#   8cb6cfe4-0ff4-43fc-bb43-5ed352cc3620 0b7d25d8-28b1-4afa-9c07-4d66f1d28d97
#   ef36e123-d9d3-4c71-8e49-c7aff48d000e 624e9aa6-9381-4e63-bd45-d0963b2007da
#   fc944db2-2bb4-4a51-b8e4-0f3cede28efa a06ce2e9-1adb-4e54-bf54-3486da8c515d
#   16dd1640-7112-4f53-a2ea-05cc1ed2d212 f7a380b8-ebf2-433a-912e-cdea1da029c9
# aws iam update-access-key --user-name=ci-deploy --access-key-id=AKIAQ3EGRV7XCIDEPLOY --status Inactive

# [verify-deactivation] AKIAQ3EGRV7XCIDEPLOY
#   Check the key shows Inactive, that AWS's quarantine policy (AWSCompromisedKeyQuarantineV2), if
#   attached, stays, and that the application works on its new key. Failed calls with the old key
#   keep showing in CloudTrail: watch them.
#   Now: done, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): access key
#   AKIAQ3EGRV7XCIDEPLOY is Inactive
# aws iam list-access-keys --user-name=ci-deploy

# [delete-access-key] AKIAQ3EGRV7XCIDEPLOY
#   Later, once nothing legitimate needs it: delete AKIAQ3EGRV7XCIDEPLOY.
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): access key
#   AKIAQ3EGRV7XCIDEPLOY still exists (Inactive)
# aws iam delete-access-key --user-name=ci-deploy --access-key-id=AKIAQ3EGRV7XCIDEPLOY

# ==========================================================================================
# Step 2. Temporary credentials minted from them
# Deactivating a key does not end the sessions it minted. Deny every session issued before
# containment (aws:TokenIssueTime), on the user for GetSessionToken/GetFederationToken sessions
# and on the role for role sessions.
# ==========================================================================================

# [deny-sessions-issued-before] arn:aws:iam::111122223333:user/ci-deploy
#   Sessions minted in the evidence: ASIAQ3EGRV7XMINTED42 (expired, expiry 2026-03-05T13:54:12Z).
#   Attach this policy to ci-deploy: it denies every session issued before 2026-03-06T12:00:00Z and
#   leaves the user's new long-term key working.
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): user ci-deploy does not
#   have the policy TrailhoundRevokeOlderSessions yet
#   evidence: 8cb6cfe4-0ff4-43fc-bb43-5ed352cc3620
# aws iam put-user-policy --user-name=ci-deploy --policy-name TrailhoundRevokeOlderSessions --policy-document='{"Version":"2012-10-17","Statement":[{"Sid":"DenySessionsIssuedBeforeContainment","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-06T12:00:00Z"}}}]}'

# [deny-all-temporarily] arn:aws:iam::111122223333:user/ci-deploy
#   Only instead of the action above, where a dated condition cannot be used: deny everything to
#   ci-deploy until 2026-03-08T00:00:00Z (36 hours), then remove the policy (aws iam
#   delete-user-policy --policy-name TrailhoundDenyAll). It blocks the user's long-term keys as
#   well.
#   Now: unknown, the snapshot does not read what this action changes
#   evidence: 8cb6cfe4-0ff4-43fc-bb43-5ed352cc3620
# aws iam put-user-policy --user-name=ci-deploy --policy-name TrailhoundDenyAll --policy-document='{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllDuringContainment","Effect":"Deny","Action":"*","Resource":"*"}]}'

# ==========================================================================================
# Step 3. Principals and credentials the attacker created
# Each was created or changed by a call in the evidence: the attacker's ways back in. Deactivate
# keys first, then remove passwords, policies and memberships, then delete users and roles (IAM
# refuses to delete a user that still has them).
# ==========================================================================================

# [deactivate-access-key] AKIAQ3EGRV7XBACKUP77
#   Access key AKIAQ3EGRV7XBACKUP77 of backup-admin was created by CreateAccessKey at
#   2026-03-04T02:06:02Z by AKIAQ3EGRV7XCIDEPLOY from 203.0.113.77: a way back in. Deactivate it
#   now.
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): access key
#   AKIAQ3EGRV7XBACKUP77 still exists (Active)
#   evidence: 624e9aa6-9381-4e63-bd45-d0963b2007da
# aws iam update-access-key --user-name=backup-admin --access-key-id=AKIAQ3EGRV7XBACKUP77 --status Inactive

# [delete-access-key] AKIAQ3EGRV7XBACKUP77
#   Delete access key AKIAQ3EGRV7XBACKUP77 once its use has been reviewed (a deactivated key still
#   shows failed attempts in CloudTrail).
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): access key
#   AKIAQ3EGRV7XBACKUP77 still exists (Active)
#   evidence: 624e9aa6-9381-4e63-bd45-d0963b2007da
# aws iam delete-access-key --user-name=backup-admin --access-key-id=AKIAQ3EGRV7XBACKUP77

# [delete-login-profile] backup-admin
#   User backup-admin was given a console password by CreateLoginProfile at 2026-03-04T02:06:32Z by
#   AKIAQ3EGRV7XCIDEPLOY from 203.0.113.77: console access for the attacker. Remove it (or, for a
#   user your team keeps, set a new password).
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): user backup-admin still
#   has a console password
#   evidence: fc944db2-2bb4-4a51-b8e4-0f3cede28efa
# aws iam delete-login-profile --user-name=backup-admin

# [detach-user-policy] backup-admin arn:aws:iam::aws:policy/AdministratorAccess
#   arn:aws:iam::aws:policy/AdministratorAccess was attached to user backup-admin by
#   AttachUserPolicy at 2026-03-04T02:05:37Z by AKIAQ3EGRV7XCIDEPLOY from 203.0.113.77.
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): user backup-admin still
#   has arn:aws:iam::aws:policy/AdministratorAccess attached
#   evidence: ef36e123-d9d3-4c71-8e49-c7aff48d000e
# aws iam detach-user-policy --user-name=backup-admin --policy-arn=arn:aws:iam::aws:policy/AdministratorAccess

# [delete-user] arn:aws:iam::111122223333:user/backup-admin
#   IAM user backup-admin was created by CreateUser at 2026-03-04T02:05:12Z by AKIAQ3EGRV7XCIDEPLOY
#   from 203.0.113.77. Delete it once its keys, password, policies and group memberships are gone
#   (aws iam list-access-keys / list-attached-user-policies / list-user-policies /
#   list-groups-for-user show what remains), unless your team made it.
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): user backup-admin still
#   exists
#   evidence: 0b7d25d8-28b1-4afa-9c07-4d66f1d28d97
# aws iam delete-user --user-name=backup-admin

# ==========================================================================================
# Step 4. Resources launched, in every region
# Snapshot EBS volumes that are evidence before terminating anything. Inventory every region,
# including those where nothing was seen: the logs may not show everything.
# ==========================================================================================

# [snapshot-volumes] i-e8446ec9a9ae55554 i-f63775fab296cdefd (us-east-1)
#   Before terminating, snapshot the EBS volumes of 2 instance(s) (p3.8xlarge) launched by
#   RunInstances at 2026-03-04T02:12:12Z by AKIAQ3EGRV7XCIDEPLOY from 203.0.113.77 in us-east-1, if
#   they are needed as evidence.
#   Now: unknown, the snapshot does not read what this action changes
#   evidence: a06ce2e9-1adb-4e54-bf54-3486da8c515d
# for v in $(aws ec2 describe-instances --region=us-east-1 --instance-ids='["i-e8446ec9a9ae55554","i-f63775fab296cdefd"]' --query 'Reservations[].Instances[].BlockDeviceMappings[].Ebs.VolumeId' --output text); do aws ec2 create-snapshot --region=us-east-1 --volume-id="$v" --description='incident evidence'; done

# [snapshot-volumes] i-d7b1c004c9128d61a i-d9daf34d8bc8a9f72 i-fabf427f45a7a0586 (ap-southeast-1)
#   Before terminating, snapshot the EBS volumes of 3 instance(s) (g4dn.12xlarge) launched by
#   RunInstances at 2026-03-04T02:14:42Z by ASIAQ3EGRV7XMINTED42 from 203.0.113.142 in
#   ap-southeast-1, if they are needed as evidence.
#   Now: unknown, the snapshot does not read what this action changes
#   evidence: 9acb14f4-ea49-45a7-a8a1-03041a8d9b79
# for v in $(aws ec2 describe-instances --region=ap-southeast-1 --instance-ids='["i-d7b1c004c9128d61a","i-d9daf34d8bc8a9f72","i-fabf427f45a7a0586"]' --query 'Reservations[].Instances[].BlockDeviceMappings[].Ebs.VolumeId' --output text); do aws ec2 create-snapshot --region=ap-southeast-1 --volume-id="$v" --description='incident evidence'; done

# [snapshot-volumes] i-8cd4556c5a30bfd84 (sa-east-1)
#   Before terminating, snapshot the EBS volumes of 1 instance(s) (c5.24xlarge) launched by
#   RunInstances at 2026-03-04T02:17:02Z by ASIAQ3EGRV7XMINTED42 from 203.0.113.142 in sa-east-1, if
#   they are needed as evidence.
#   Now: unknown, the snapshot does not read what this action changes
#   evidence: 799b6377-d9ca-439e-9e3b-1534d0670944
# for v in $(aws ec2 describe-instances --region=sa-east-1 --instance-ids=i-8cd4556c5a30bfd84 --query 'Reservations[].Instances[].BlockDeviceMappings[].Ebs.VolumeId' --output text); do aws ec2 create-snapshot --region=sa-east-1 --volume-id="$v" --description='incident evidence'; done

# [terminate-instances] i-e8446ec9a9ae55554 i-f63775fab296cdefd (us-east-1)
#   2 instance(s) of type p3.8xlarge launched by RunInstances at 2026-03-04T02:12:12Z by
#   AKIAQ3EGRV7XCIDEPLOY from 203.0.113.77 in us-east-1.
#   Now: done, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): every instance of the
#   action is terminated or gone in us-east-1
#   evidence: a06ce2e9-1adb-4e54-bf54-3486da8c515d
# aws ec2 terminate-instances --region=us-east-1 --instance-ids='["i-e8446ec9a9ae55554","i-f63775fab296cdefd"]'

# [terminate-instances] i-d7b1c004c9128d61a i-d9daf34d8bc8a9f72 i-fabf427f45a7a0586 (ap-southeast-1)
#   3 instance(s) of type g4dn.12xlarge launched by RunInstances at 2026-03-04T02:14:42Z by
#   ASIAQ3EGRV7XMINTED42 from 203.0.113.142 in ap-southeast-1.
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): instance
#   i-d7b1c004c9128d61a (running), instance i-d9daf34d8bc8a9f72 (running), instance
#   i-fabf427f45a7a0586 (running) still there in ap-southeast-1
#   evidence: 9acb14f4-ea49-45a7-a8a1-03041a8d9b79
# aws ec2 terminate-instances --region=ap-southeast-1 --instance-ids='["i-d7b1c004c9128d61a","i-d9daf34d8bc8a9f72","i-fabf427f45a7a0586"]'

# [terminate-instances] i-8cd4556c5a30bfd84 (sa-east-1)
#   1 instance(s) of type c5.24xlarge launched by RunInstances at 2026-03-04T02:17:02Z by
#   ASIAQ3EGRV7XMINTED42 from 203.0.113.142 in sa-east-1.
#   Now: OPEN, snapshot 20260306T090000Z-demo01 (2026-03-06T09:00:00.000Z): instance
#   i-8cd4556c5a30bfd84 (stopped) still there in sa-east-1
#   evidence: 799b6377-d9ca-439e-9e3b-1534d0670944
# aws ec2 terminate-instances --region=sa-east-1 --instance-ids=i-8cd4556c5a30bfd84

# [inventory-all-regions] all regions
#   List instances (stopped ones too), Spot requests, Auto Scaling groups, volumes, snapshots and
#   AMIs in every enabled region. The attacker acted in ap-southeast-1, eu-west-1, sa-east-1,
#   us-east-1, us-east-2, us-west-2; check the others as well.
#   Now: unknown, a check for a person
# for r in $(aws ec2 describe-regions --query 'Regions[].RegionName' --output text); do echo "== $r"; aws ec2 describe-instances --region "$r" --query 'Reservations[].Instances[].[InstanceId,InstanceType,State.Name,LaunchTime]' --output text; aws ec2 describe-spot-instance-requests --region "$r" --query 'SpotInstanceRequests[].[SpotInstanceRequestId,State]' --output text; aws autoscaling describe-auto-scaling-groups --region "$r" --query 'AutoScalingGroups[].AutoScalingGroupName' --output text; done

# Regions with attacker activity: ap-southeast-1 eu-west-1 sa-east-1 us-east-1 us-east-2 us-west-2
# Check also: af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3
# ap-south-1 ap-south-2 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-7
# ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 eu-west-2
# eu-west-3 il-central-1 me-central-1 me-south-1 mx-central-1 us-west-1

# ==========================================================================================
# Step 5. Logging and security services
# Restore what the attacker turned off or changed, so that what happens next is recorded.
# ==========================================================================================

# [start-logging] arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events (us-east-1)
#   StopLogging on arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events by StopLogging
#   at 2026-03-04T02:22:12Z by AKIAQ3EGRV7XCIDEPLOY from 203.0.113.77 in us-east-1. Start logging
#   again; the events of the gap are lost for good.
#   Done in the evidence: StartLogging at 2026-03-04T08:41:37Z by
#   arn:aws:iam::111122223333:user/alice from 198.51.100.10 (event
#   f7a380b8-ebf2-433a-912e-cdea1da029c9); check it still holds.
#   Now: unknown, the snapshot does not read what this action changes
#   evidence: 16dd1640-7112-4f53-a2ea-05cc1ed2d212
# aws cloudtrail start-logging --name=arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events --region=us-east-1

# ==========================================================================================
# Step 6. Shared and read data
# Revoke sharing of snapshots, images and buckets; tell the data owners what may have been read.
# ==========================================================================================

# [review-data-read] example-customer-exports (eu-west-1)
#   4 read(s) of objects in bucket example-customer-exports: exports/customers-2026-01.csv,
#   exports/customers-2026-02.csv, exports/invoices-2026-02.csv, exports/payroll-2026-02.xlsx. Tell
#   the data owner; S3 data events are only in the logs when the trail records them.
#   Now: unknown, a check for a person
#   evidence: c33f3b1d-b7ad-448f-82b9-ba97dfb7c5e4 e71b78b4-ae77-47e3-a1ec-7717363418eb
#   9d1cae97-f676-42ee-83fd-0ae4773f7adc cd219067-8f21-44ec-8c60-face12dae3f8
#   (no command: do this in the console or by hand)

# ==========================================================================================
# Step 7. Account hygiene
# Secure the root user, reset IAM passwords, check the account contacts, and answer AWS Support.
# ==========================================================================================

# [secure-root-user] 111122223333
#   Change the root user password, turn on MFA for it, and confirm it has no access keys (aws iam
#   get-account-summary shows AccountAccessKeysPresent).
#   Now: unknown, a check for a person
# aws iam get-account-summary

# [reset-iam-passwords] backup-admin
#   Reset the passwords of the IAM users your team keeps; the attacker touched console access of
#   backup-admin. The credential report lists every password and key with its last use.
#   Now: unknown, a check for a person
#   evidence: fc944db2-2bb4-4a51-b8e4-0f3cede28efa 7ba7e0f0-241a-4b01-859a-b4ddba4fc539
# aws iam generate-credential-report && aws iam get-credential-report --query Content --output text | base64 -d

# [check-account-contacts] 111122223333
#   Check the account name, root email and the primary and alternate contacts are yours.
#   Now: unknown, a check for a person
# aws account get-contact-information

# [contact-aws-support] 111122223333
#   Answer any AWS notice in the Support Center with what was done, and open a case about charges
#   the attacker caused. Never put keys or passwords in the case.
#   Now: unknown, the snapshot does not read what this action changes
#   (no command: do this in the console or by hand)

# caveat: Evidence gap (logging-stopped, us-east-1, 2026-03-04T02:22:12Z .. 2026-03-04T08:41:37Z):
# StopLogging on trail arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events
