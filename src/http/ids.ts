// The one schema for ids in requests (path, query, body). UUIDs are case-insensitive and zod
// accepts either case, but PostgreSQL returns them lower-case: an id kept as sent would miss the
// maps keyed by stored ids, compare unequal to itself in another case, and sort differently from
// uuid order. Lower-casing it at the edge, once, makes every id inside the service canonical.
import { z } from 'zod';

/** A UUID, lower-cased; `message` replaces the default "must be a UUID". */
export const uuidIdWith = (message: string) => z.uuid({ message }).toLowerCase();

/** A UUID, lower-cased. */
export const uuidId = uuidIdWith('must be a UUID');
