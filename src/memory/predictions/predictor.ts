// What the memory API needs from the prediction engine: one customer's predictions, computed
// now from the business's fitted models and the customer's purchases, stored (warehouse
// history, customer_predictions, customer_metrics) and returned.

export interface RecommendedProduct {
  itemId: string;
  name: string | null;
  /** Co-occurrence strength, 0..1. */
  score: number;
}

export interface CustomerPrediction {
  customerId: string;
  modelVersion: string;
  computedAt: string;
  /** 1 − P(alive), 0..1. */
  churnRisk: number;
  expectedPurchases30d: number;
  expectedPurchases90d: number;
  /** YYYY-MM-DD, or null when a next purchase is not expected within a year. */
  nextPurchaseDate: string | null;
  /** Expected average spend per purchase (Gamma-Gamma), major units. */
  expectedSpend: number;
  predictedClv12m: number;
  /** Chance of at least one purchase in the next 30 days, 0..1. */
  propensity: number;
  /** 0..1; see the engine's documentation of the formula. */
  engagementScore: number;
  /** 0..1: how much history the predictions rest on. */
  confidence: number;
  recommendations: RecommendedProduct[];
}

export interface Predictor {
  /** Throws AppError NOT_FOUND for a customer the business does not have. */
  predictCustomer(businessId: string, customerId: string): Promise<CustomerPrediction>;
}
