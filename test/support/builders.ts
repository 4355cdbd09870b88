// Builders for request bodies: a valid customer aggregate with unique identifiers, overridable.
import { randomUUID } from 'node:crypto';

let sequence = 0;

export function buildCustomer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1;
  const n = `${Date.now().toString(36)}${sequence}`;
  return {
    email: `customer.${n}@example.com`,
    phone: `+1415555${String(1000 + (sequence % 9000)).padStart(4, '0')}`,
    firstName: 'Pauline',
    lastName: `Tester${sequence}`,
    status: 'active',
    customerType: 'registered',
    tags: ['loyal'],
    customAttributes: { preferredContactTime: 'morning' },
    sources: [{ source: 'square', externalId: `sq-${n}`, data: { locationId: 'L1' } }],
    metrics: { totalOrders: 3, totalSpent: 120.5, averageOrderValue: 40.17, churnProbability: 0.2 },
    demographics: { gender: 'female', ageRange: '35-44', interests: ['fashion'] },
    engagement: { emailConsent: true, loyaltyMember: true, loyaltyTier: 'gold', loyaltyPoints: 450 },
    risk: { riskScore: 15, riskLevel: 'low' },
    addresses: [
      {
        addressType: 'shipping',
        isDefault: true,
        addressLine1: '264 S Doheny Dr',
        city: 'Beverly Hills',
        country: 'United States',
        countryCode: 'US',
        postalCode: '90211',
      },
    ],
    ipAddresses: [{ ipAddress: '173.252.84.123', countryCode: 'US', city: 'Beverly Hills' }],
    activities: [{ id: randomUUID(), activityType: 'product_view', eventData: { productId: 'p-1' }, occurredAt: '2025-08-01T10:00:00Z' }],
    ...overrides,
  };
}
