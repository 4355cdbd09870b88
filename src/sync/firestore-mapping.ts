// Maps a PostgreSQL customer aggregate to its Firestore documents (reference 003's shape), pure:
//   customers/{id}                  what a list view needs, no PII
//   customers/{id}/private/pii      names, email, phone, birth date, notes, demographics, source data
//   customers/{id}/addresses/{id}   customers/{id}/ipAddresses/{id}   customers/{id}/activities/{id}
// Each document carries `_sync: { version, hash, syncedAt }`; the hash covers the content only.
import { GeoPoint } from 'firebase-admin/firestore';
import type {
  ActivityRow,
  AddressRow,
  CustomerAggregate,
  IpAddressRow,
} from '../customers/customers.repository.js';
import { contentHash } from './content-hash.js';

export type DocData = Record<string, unknown>;

export interface MappedDocument {
  /** Path relative to customers/{id}: '' for the main document, 'private/pii', 'addresses/<id>', … */
  path: string;
  content: DocData;
  hash: string;
}

export interface CustomerDocuments {
  main: MappedDocument;
  pii: MappedDocument;
  addresses: MappedDocument[];
  ipAddresses: MappedDocument[];
}

export const CUSTOMERS = 'customers';
export const SUBCOLLECTIONS = ['addresses', 'ipAddresses', 'activities'] as const;

export function withSync(doc: MappedDocument, version: number, syncedAt: Date): DocData {
  return { ...doc.content, _sync: { version, hash: doc.hash, syncedAt } };
}

function mapped(path: string, content: DocData): MappedDocument {
  return { path, content, hash: contentHash(content) };
}

const geo = (lat: number | null, lng: number | null) => (lat !== null && lng !== null ? new GeoPoint(lat, lng) : null);

export function mapCustomer(a: CustomerAggregate): CustomerDocuments {
  return {
    main: mapped('', mainContent(a)),
    pii: mapped('private/pii', piiContent(a)),
    addresses: a.addresses.map((ad) => mapped(`addresses/${ad.id}`, addressContent(ad))),
    ipAddresses: a.ipAddresses.map((ip) => mapped(`ipAddresses/${ip.id}`, ipContent(ip))),
  };
}

function mainContent(a: CustomerAggregate): DocData {
  const sources: Record<string, DocData> = {};
  for (const s of a.sources) {
    const entry = (sources[s.source] ??= { id: s.externalId, ids: [], firstSyncedAt: s.firstSyncedAt, lastSyncedAt: s.lastSyncedAt, syncStatus: s.syncStatus });
    (entry.ids as string[]).push(s.externalId);
  }
  const m = a.metrics;
  const r = a.risk;
  const e = a.engagement;
  return {
    id: a.id,
    businessIds: a.businessIds,
    status: a.status,
    customerType: a.customerType,
    tags: a.tags,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    deletedAt: a.deletedAt,
    lastActiveAt: a.lastActiveAt,
    sources,
    // Per business: what its admin UI filters and shows (the override's free-text reason stays in PostgreSQL).
    businesses: Object.fromEntries(
      a.standing.map((st) => [
        st.businessId,
        {
          tier: st.loyaltyTier,
          tierUpdatedAt: st.tierUpdatedAt,
          tierOverride: st.tierOverride,
          segmentIds: st.segmentIds,
          preferences: st.preferences && {
            emailMarketing: st.preferences.emailMarketing,
            smsMarketing: st.preferences.smsMarketing,
            pushNotifications: st.preferences.pushNotifications,
            loyaltyUpdates: st.preferences.loyaltyUpdates,
            transactionReceipts: st.preferences.transactionReceipts,
            promotionalOffers: st.preferences.promotionalOffers,
            surveyInvitations: st.preferences.surveyInvitations,
            newsletterSubscription: st.preferences.newsletterSubscription,
            frequency: st.preferences.frequency,
            preferredChannel: st.preferences.preferredChannel,
            timezone: st.preferences.timezone,
            quietHoursStart: st.preferences.quietHoursStart,
            quietHoursEnd: st.preferences.quietHoursEnd,
            updatedAt: st.preferences.updatedAt,
          },
        },
      ]),
    ),
    metrics: m && {
      totalOrders: m.totalOrders,
      completedOrders: m.completedOrders,
      cancelledOrders: m.cancelledOrders,
      returnedOrders: m.returnedOrders,
      totalSpent: m.totalSpent,
      totalRefunded: m.totalRefunded,
      netRevenue: m.netRevenue,
      averageOrderValue: m.averageOrderValue,
      lifetimeValue: m.lifetimeValue,
      totalItemsPurchased: m.totalItemsPurchased,
      favoriteCategory: m.favoriteCategory,
      favoriteBrand: m.favoriteBrand,
      firstOrderDate: m.firstOrderDate,
      lastOrderDate: m.lastOrderDate,
      emailOpens: m.emailOpens,
      emailClicks: m.emailClicks,
      emailOpenRate: m.emailOpenRate,
      emailClickRate: m.emailClickRate,
      churnProbability: m.churnProbability,
      predictedNextOrderDate: m.predictedNextOrderDate,
      predictedLifetimeValue: m.predictedLifetimeValue,
      propensityScore: m.propensityScore,
      calculatedAt: m.calculatedAt,
    },
    risk: r && {
      overallScore: r.riskScore,
      level: r.riskLevel,
      emailRiskScore: r.emailRiskScore,
      ipRiskScore: r.ipRiskScore,
      addressRiskScore: r.addressRiskScore,
      behaviorRiskScore: r.behaviorRiskScore,
      paymentRiskScore: r.paymentRiskScore,
      fraudIndicators: {
        isDisposableEmail: r.isDisposableEmail,
        isFreeEmail: r.isFreeEmail,
        emailDomainAgeDays: r.emailDomainAgeDays,
        hasMultipleAccounts: r.hasMultipleAccounts,
        relatedAccountIds: r.relatedAccountIds,
        usesVpnFrequently: r.usesVpnFrequently,
        multipleIpCountries: r.multipleIpCountries,
        ipCountryCount: r.ipCountryCount,
        billingShippingMismatch: r.billingShippingMismatch,
        highRiskCountry: r.highRiskCountry,
      },
      behavioralFlags: {
        rapidOrderVelocity: r.rapidOrderVelocity,
        unusualPurchasePattern: r.unusualPurchasePattern,
        highReturnRate: r.highReturnRate,
      },
      paymentFlags: {
        paymentFailures: r.paymentFailures,
        chargebacks: r.chargebacks,
        differentPaymentMethods: r.differentPaymentMethods,
      },
      externalScores: { sift: r.siftScore, riskified: r.riskifiedScore, maxmind: r.maxmindRiskScore },
      isBlocked: r.isBlocked,
      blockedReason: r.blockedReason,
      blockedAt: r.blockedAt,
      blockedBy: r.blockedBy,
      requiresReview: r.requiresReview,
      reviewNotes: r.reviewNotes,
      reviewedAt: r.reviewedAt,
      reviewedBy: r.reviewedBy,
      assessedAt: r.assessedAt,
      nextAssessmentAt: r.nextAssessmentAt,
    },
    engagement: e && {
      email: {
        consent: e.emailConsent,
        consentDate: e.emailConsentDate,
        unsubscribeDate: e.emailUnsubscribeDate,
        totalSent: e.totalEmailsSent,
        totalOpened: e.totalEmailsOpened,
        totalClicked: e.totalEmailsClicked,
        totalBounced: e.totalEmailsBounced,
        lastOpenDate: e.lastEmailOpenDate,
        lastClickDate: e.lastEmailClickDate,
        engagementScore: e.emailEngagementScore,
      },
      sms: {
        consent: e.smsConsent,
        consentDate: e.smsConsentDate,
        unsubscribeDate: e.smsUnsubscribeDate,
        totalSent: e.totalSmsSent,
        totalClicked: e.totalSmsClicked,
        lastClickDate: e.lastSmsClickDate,
        engagementScore: e.smsEngagementScore,
      },
      // Push tokens identify a device: not needed by a list view, so only their count is here.
      push: { consent: e.pushConsent, tokenCount: e.pushTokens.length },
      web: {
        totalSessions: e.totalSessions,
        totalPageViews: e.totalPageViews,
        averageSessionDuration: e.averageSessionDuration,
        bounceRate: e.bounceRate,
      },
      app: { installed: e.appInstalled, version: e.appVersion, lastOpened: e.appLastOpened },
      loyalty: { isMember: e.loyaltyMember, tier: e.loyaltyTier, points: e.loyaltyPoints, lifetimePoints: e.loyaltyLifetimePoints },
      reviews: { totalReviews: e.totalReviews, averageRating: e.averageReviewRating, npsScore: e.npsScore },
    },
  };
}

function piiContent(a: CustomerAggregate): DocData {
  const d = a.demographics;
  return {
    customerId: a.id,
    businessIds: a.businessIds,
    email: a.email,
    emailLowercase: a.emailLowercase,
    phone: a.phone,
    phoneNormalized: a.phoneNormalized,
    firstName: a.firstName,
    lastName: a.lastName,
    fullName: a.fullName,
    dateOfBirth: a.dateOfBirth,
    notes: a.notes,
    internalNotes: a.internalNotes,
    customAttributes: a.customAttributes,
    sourceData: Object.fromEntries(a.sources.map((s) => [`${s.source}:${s.externalId}`, s.sourceData])),
    pushTokens: a.engagement?.pushTokens ?? [],
    demographics: d && {
      gender: d.gender,
      age: d.age,
      ageRange: d.ageRange,
      birthDate: d.birthDate,
      birthYear: d.birthYear,
      incomeRange: d.incomeRange,
      householdIncomePercentile: d.householdIncomePercentile,
      educationLevel: d.educationLevel,
      occupation: d.occupation,
      industry: d.industry,
      jobTitle: d.jobTitle,
      company: d.company,
      maritalStatus: d.maritalStatus,
      hasChildren: d.hasChildren,
      numberOfChildren: d.numberOfChildren,
      homeOwnershipStatus: d.homeOwnershipStatus,
      dwellingType: d.dwellingType,
      interests: d.interests,
      hobbies: d.hobbies,
      preferredBrands: d.preferredBrands,
      lifestyleSegment: d.lifestyleSegment,
      socialProfiles: d.socialProfiles,
      socialInfluenceScore: d.socialInfluenceScore,
      sources: d.demographicSources,
      confidenceScore: d.confidenceScore,
      enrichedAt: d.enrichedAt,
    },
  };
}

function addressContent(ad: AddressRow): DocData {
  return {
    id: ad.id,
    addressType: ad.addressType,
    isDefault: ad.isDefault,
    label: ad.label,
    firstName: ad.firstName,
    lastName: ad.lastName,
    company: ad.company,
    addressLine1: ad.addressLine1,
    addressLine2: ad.addressLine2,
    city: ad.city,
    stateProvince: ad.stateProvince,
    stateProvinceCode: ad.stateProvinceCode,
    country: ad.country,
    countryCode: ad.countryCode,
    postalCode: ad.postalCode,
    phone: ad.phone,
    email: ad.email,
    geoPoint: geo(ad.latitude, ad.longitude),
    timezone: ad.timezone,
    isValidated: ad.isValidated,
    validationProvider: ad.validationProvider,
    validationResult: ad.validationResult ?? null,
    validatedAt: ad.validatedAt,
    neighborhoodData: {
      incomeLevel: ad.neighborhoodIncomeLevel,
      medianIncome: ad.neighborhoodMedianIncome,
      propertyType: ad.propertyType,
      propertyValueEstimate: ad.propertyValueEstimate,
    },
    createdAt: ad.createdAt,
    lastUsedAt: ad.lastUsedAt,
  };
}

function ipContent(ip: IpAddressRow): DocData {
  return {
    id: ip.id,
    ipAddress: ip.ipAddress,
    ipVersion: ip.ipVersion,
    location: {
      country: ip.country,
      countryCode: ip.countryCode,
      region: ip.region,
      regionCode: ip.regionCode,
      city: ip.city,
      postalCode: ip.postalCode,
      geoPoint: geo(ip.latitude, ip.longitude),
      timezone: ip.timezone,
    },
    isp: { name: ip.isp, organization: ip.organization, asn: ip.asn, asName: ip.asName, connectionType: ip.connectionType },
    riskFlags: {
      isVpn: ip.isVpn,
      isProxy: ip.isProxy,
      isTor: ip.isTor,
      isRelay: ip.isRelay,
      isHosting: ip.isHosting,
      isMobile: ip.isMobile,
    },
    device: {
      userAgent: ip.userAgent,
      browser: ip.browser,
      browserVersion: ip.browserVersion,
      operatingSystem: ip.operatingSystem,
      osVersion: ip.osVersion,
      deviceType: ip.deviceType,
      deviceBrand: ip.deviceBrand,
      deviceModel: ip.deviceModel,
    },
    usage: {
      firstSeenAt: ip.firstSeenAt,
      lastSeenAt: ip.lastSeenAt,
      totalSessions: ip.totalSessions,
      totalPageViews: ip.totalPageViews,
      totalEvents: ip.totalEvents,
    },
    createdAt: ip.createdAt,
  };
}

export function mapActivity(act: ActivityRow): MappedDocument {
  return mapped(`activities/${act.id}`, {
    id: act.id,
    activityType: act.activityType,
    activityCategory: act.activityCategory,
    eventData: act.eventData,
    context: {
      ipAddress: act.ipAddress,
      sessionId: act.sessionId,
      userAgent: act.userAgent,
      referrer: act.referrer,
      utm: { source: act.utmSource, medium: act.utmMedium, campaign: act.utmCampaign },
    },
    location: { countryCode: act.countryCode, region: act.region, city: act.city },
    occurredAt: act.occurredAt,
    createdAt: act.createdAt,
  });
}

/** Firestore's document limit is 1 MiB; this estimate (UTF-8 JSON) errs on the large side. */
export function estimatedSize(doc: DocData): number {
  return Buffer.byteLength(JSON.stringify(doc), 'utf8') + 256;
}
export const FIRESTORE_MAX_DOCUMENT_BYTES = 1_048_576;
