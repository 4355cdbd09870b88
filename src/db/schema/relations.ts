// Relations for drizzle's relational queries: one query (one round trip) loads whole aggregates.
import { relations } from 'drizzle-orm';
import { businessCustomers, businesses } from './businesses.js';
import { customerActivities, customerAddresses, customerIpAddresses } from './customer-history.js';
import { customerDemographics, customerEngagement, customerMetrics, customerRiskAssessments } from './customer-profile.js';
import { customerSources, customers } from './customers.js';
import { customerCommunicationPreferences } from './preferences.js';
import { customerSegmentAssignments } from './segments.js';

export const customersRelations = relations(customers, ({ one, many }) => ({
  businessLinks: many(businessCustomers),
  sources: many(customerSources),
  metrics: one(customerMetrics),
  demographics: one(customerDemographics),
  engagement: one(customerEngagement),
  risk: one(customerRiskAssessments),
  addresses: many(customerAddresses),
  ipAddresses: many(customerIpAddresses),
  activities: many(customerActivities),
  segmentAssignments: many(customerSegmentAssignments),
  preferences: many(customerCommunicationPreferences),
}));

export const customerSegmentAssignmentsRelations = relations(customerSegmentAssignments, ({ one }) => ({
  customer: one(customers, { fields: [customerSegmentAssignments.customerId], references: [customers.id] }),
}));
export const customerPreferencesRelations = relations(customerCommunicationPreferences, ({ one }) => ({
  customer: one(customers, { fields: [customerCommunicationPreferences.customerId], references: [customers.id] }),
}));

export const businessCustomersRelations = relations(businessCustomers, ({ one }) => ({
  customer: one(customers, { fields: [businessCustomers.customerId], references: [customers.id] }),
  business: one(businesses, { fields: [businessCustomers.businessId], references: [businesses.id] }),
}));
export const customerSourcesRelations = relations(customerSources, ({ one }) => ({
  customer: one(customers, { fields: [customerSources.customerId], references: [customers.id] }),
}));
export const customerMetricsRelations = relations(customerMetrics, ({ one }) => ({
  customer: one(customers, { fields: [customerMetrics.customerId], references: [customers.id] }),
}));
export const customerDemographicsRelations = relations(customerDemographics, ({ one }) => ({
  customer: one(customers, { fields: [customerDemographics.customerId], references: [customers.id] }),
}));
export const customerEngagementRelations = relations(customerEngagement, ({ one }) => ({
  customer: one(customers, { fields: [customerEngagement.customerId], references: [customers.id] }),
}));
export const customerRiskRelations = relations(customerRiskAssessments, ({ one }) => ({
  customer: one(customers, { fields: [customerRiskAssessments.customerId], references: [customers.id] }),
}));
export const customerAddressesRelations = relations(customerAddresses, ({ one }) => ({
  customer: one(customers, { fields: [customerAddresses.customerId], references: [customers.id] }),
}));
export const customerIpAddressesRelations = relations(customerIpAddresses, ({ one }) => ({
  customer: one(customers, { fields: [customerIpAddresses.customerId], references: [customers.id] }),
}));
export const customerActivitiesRelations = relations(customerActivities, ({ one }) => ({
  customer: one(customers, { fields: [customerActivities.customerId], references: [customers.id] }),
}));
