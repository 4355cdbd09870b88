// Word lists for generated data. Every email uses a reserved example domain and every phone
// number the 555-01xx fiction range, so no generated contact can belong to a real person.
export const FIRST_NAMES = [
  'Ann', 'Ben', 'Carla', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jamal',
  'Kate', 'Luis', 'Maya', 'Noah', 'Olga', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tara',
  'Umar', 'Vera', 'Wes', 'Xin', 'Yara', 'Zoe', 'Aaron', 'Bea', 'Cole', 'Dana',
] as const;

export const LAST_NAMES = [
  'Lee', 'Garcia', 'Okafor', 'Nguyen', 'Smith', 'Kowalski', 'Haddad', 'Tanaka', 'Silva', 'Brown',
  'Ivanova', 'Patel', 'Murphy', 'Rossi', 'Schmidt', 'Dubois', 'Kim', 'Hansen', 'Cohen', 'Mensah',
  'Lopez', 'Novak', 'Reyes', 'Walsh', 'Yilmaz', 'Chen', 'Costa', 'Fischer', 'Moreau', 'Singh',
] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;

/** US area codes; with the 555-0100…0199 lines they give 100 numbers each. */
export const AREA_CODES = [
  '415', '212', '312', '503', '206', '617', '512', '303', '702', '404',
  '305', '213', '718', '646', '510', '408', '602', '619', '858', '971',
] as const;

export const MAX_PEOPLE = AREA_CODES.length * 100;

export const SQUARE_LOCATION_NAMES = ['Mission St', 'Valencia Flagship', 'Ferry Building', 'Oakland Popup'] as const;
export const LIGHTSPEED_SHOP_NAMES = ['Downtown', 'Harbor', 'Uptown', 'Airport'] as const;

export const CATEGORY_NAMES = ['Coffee', 'Tea', 'Pastry', 'Merchandise', 'Beans'] as const;

export const PRODUCT_NAMES = [
  'Cold Brew', 'Flat White', 'Chai Latte', 'Matcha', 'Croissant', 'Almond Scone', 'Tote Bag',
  'Ceramic Mug', 'House Blend 1lb', 'Ethiopia Yirgacheffe', 'Espresso', 'Oat Cortado',
  'Banana Bread', 'Pour-over Kit', 'Sencha', 'Hoodie', 'Decaf Blend', 'Cinnamon Roll',
] as const;

export const VARIATION_NAMES = ['Regular', 'Small', 'Large'] as const;

export const CARD_BRANDS = ['VISA', 'MASTERCARD', 'AMERICAN_EXPRESS', 'DISCOVER'] as const;

export const REFUND_REASONS = ['Returned goods', 'Customer request', 'Wrong order', 'Damaged item'] as const;
