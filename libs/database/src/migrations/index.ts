// Every migration, in order. `npm run migration:generate -- <name>` appends here.
import { InitialSchema1795671533262 } from './1795671533262-initial-schema';
import { LogoutPipeline1795674267230 } from './1795674267230-logout-pipeline';
import { SessionExpiryNotification1795680048698 } from './1795680048698-session-expiry-notification';
import { RetryBatches1795680735643 } from './1795680735643-retry-batches';
import { WebhookSecretRotation1795681120215 } from './1795681120215-webhook-secret-rotation';
import { LogoutTokenSubject1795682200001 } from './1795682200001-logout-token-subject';
import { TokensHashedAtRest1796128262400 } from './1796128262400-tokens-hashed-at-rest';
import { PartitionedDeliveryHistory1796141498254 } from './1796141498254-partitioned-delivery-history';

export const MIGRATIONS = [
  InitialSchema1795671533262,
  LogoutPipeline1795674267230,
  SessionExpiryNotification1795680048698,
  RetryBatches1795680735643,
  WebhookSecretRotation1795681120215,
  LogoutTokenSubject1795682200001,
  TokensHashedAtRest1796128262400,
  PartitionedDeliveryHistory1796141498254,
];
