/**
 * Where an investigation reads its events from. The local DuckDB store implements it; the
 * Athena engine implements the same calls over an organisation's CloudTrail table, so the
 * lineage logic in analyze.ts runs unchanged on both.
 */
import type { Coverage } from './types.js';
import type { EventColumnName } from '../store/columns.js';

/** Which events to fetch. Lists are OR-ed within a field, fields are AND-ed; empty = no constraint. */
export interface EventFilter {
  /** Access key ids (useridentity.accesskeyid). */
  readonly keys?: readonly string[];
  /** Source addresses: exact IPs or CIDR blocks. */
  readonly ips?: readonly string[];
  /** Principal ARNs, user names or role names (matched against the identity's ARN, user name and session issuer). */
  readonly principals?: readonly string[];
  /** Role session names (the last part of an assumed-role ARN). */
  readonly sessions?: readonly string[];
  readonly eventNames?: readonly string[];
  /** STS calls whose response hands out one of these session keys (`responseElements.credentials.accessKeyId`). */
  readonly mintedKeys?: readonly string[];
  readonly since?: Date;
  readonly until?: Date;
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** At most this many events, earliest first. */
  readonly limit?: number;
  /**
   * When given, read-only events come without their JSON parts (request, response, additional
   * data) unless their name is listed: a source may then skip reading them. Events that change
   * something always have them.
   */
  readonly readOnlyDetail?: readonly string[];
}

/** What every view of an event shares: who called what, from where, and how it ended. */
export interface EventCore {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly accessKeyId: string | null;
  readonly principalArn: string | null;
  readonly identityType: string | null;
  readonly userName: string | null;
  readonly sessionIssuerArn: string | null;
  readonly sourceIp: string | null;
  readonly userAgent: string | null;
  readonly region: string | null;
  /** The account whose trail holds the event (recipientAccountId). */
  readonly account: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

/** The fields of an event the investigation needs; JSON parts stay as JSON text. */
export interface EventRow extends EventCore {
  /** The account the identity belongs to. */
  readonly principalAccount: string | null;
  readonly requestParameters: string | null;
  readonly responseElements: string | null;
  readonly additionalEventData: string | null;
  readonly sharedEventId: string | null;
}

/** The first time an account was seen acting in a region. */
export interface RegionFirstSeen {
  readonly account: string;
  readonly region: string;
  readonly first: string;
}

export interface EvidenceSource {
  /** A short name for coverage and messages: `duckdb`, `athena`. */
  readonly name: string;
  fetchEvents(filter: EventFilter): Promise<EventRow[]>;
  regionFirstSeen(accounts: readonly string[]): Promise<RegionFirstSeen[]>;
  coverage(window: { since?: Date; until?: Date; accounts?: readonly string[]; regions?: readonly string[] }): Promise<Coverage>;
}

/** A query's row by the names of `events` (store/columns.ts), so a renamed column fails to compile here. */
export type EventColumnsRow = Readonly<Partial<Record<EventColumnName, string | null>>>;

/** An event row from a query's columns (the names of `events`, on both engines); JSON `null` reads as null. */
export function eventRowOf(r: EventColumnsRow): EventRow {
  return {
    eventId: r['eventid'] ?? r['eventkey'] ?? '',
    eventTime: r['eventtime'] ?? '',
    eventName: r['eventname'] ?? '',
    eventSource: r['eventsource'] ?? '',
    accessKeyId: r['access_key_id'] ?? null,
    principalArn: r['principal_arn'] ?? null,
    identityType: r['useridentity_type'] ?? null,
    userName: r['user_name'] ?? null,
    sessionIssuerArn: r['session_issuer_arn'] ?? null,
    principalAccount: r['principal_account'] ?? null,
    sourceIp: r['sourceipaddress'] ?? null,
    userAgent: r['useragent'] ?? null,
    region: r['awsregion'] ?? null,
    account: r['recipientaccountid'] ?? null,
    errorCode: r['errorcode'] ?? null,
    errorMessage: r['errormessage'] ?? null,
    requestParameters: nullIfJsonNull(r['requestparameters']),
    responseElements: nullIfJsonNull(r['responseelements']),
    additionalEventData: nullIfJsonNull(r['additionaleventdata']),
    sharedEventId: r['sharedeventid'] ?? null,
  };
}

function nullIfJsonNull(text: string | null | undefined): string | null {
  return text === undefined || text === null || text === 'null' ? null : text;
}
