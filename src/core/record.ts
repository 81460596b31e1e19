/** A CloudTrail record as delivered: known fields typed, anything else kept as is. */
export interface CloudTrailRecord {
  readonly eventVersion?: string;
  readonly userIdentity?: UserIdentity;
  readonly eventTime?: string;
  readonly eventSource?: string;
  readonly eventName?: string;
  readonly awsRegion?: string;
  readonly sourceIPAddress?: string;
  readonly userAgent?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestParameters?: Record<string, unknown> | null;
  readonly responseElements?: Record<string, unknown> | null;
  readonly additionalEventData?: Record<string, unknown> | null;
  readonly requestID?: string;
  readonly eventID?: string;
  readonly readOnly?: boolean;
  readonly resources?: ReadonlyArray<Record<string, unknown>>;
  readonly eventType?: string;
  readonly apiVersion?: string;
  readonly managementEvent?: boolean;
  readonly recipientAccountId?: string;
  readonly serviceEventDetails?: Record<string, unknown>;
  readonly sharedEventID?: string;
  readonly vpcEndpointId?: string;
  readonly eventCategory?: string;
  readonly tlsDetails?: Record<string, unknown>;
  readonly sessionCredentialFromConsole?: string;
  readonly [extra: string]: unknown;
}

/** The `userIdentity` block: who made the call and with which credentials. */
export interface UserIdentity {
  readonly type?: string;
  readonly principalId?: string;
  readonly arn?: string;
  readonly accountId?: string;
  readonly accessKeyId?: string;
  readonly userName?: string;
  readonly invokedBy?: string;
  readonly sessionContext?: {
    readonly sessionIssuer?: {
      readonly type?: string;
      readonly principalId?: string;
      readonly arn?: string;
      readonly accountId?: string;
      readonly userName?: string;
    };
    readonly attributes?: { readonly creationDate?: string; readonly mfaAuthenticated?: string };
    readonly [extra: string]: unknown;
  };
  readonly [extra: string]: unknown;
}
