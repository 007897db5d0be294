// Every migration, in order. `npm run migration:generate -- <name>` appends here.
import { InitialSchema1795671533262 } from './1795671533262-initial-schema';

export const MIGRATIONS = [InitialSchema1795671533262];
