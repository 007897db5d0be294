import { ClientEntity } from './client.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliveryEntity } from './delivery.entity';
import { LogoutEventEntity } from './logout-event.entity';
import { SessionClientEntity } from './session-client.entity';
import { OidcPayloadEntity } from './oidc-payload.entity';
import { RetryBatchEntity } from './retry-batch.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { UserEntity } from './user.entity';

export * from './client.entity';
export * from './delivery-attempt.entity';
export * from './delivery.entity';
export * from './logout-event.entity';
export * from './session-client.entity';
export * from './oidc-payload.entity';
export * from './retry-batch.entity';
export * from './signing-key.entity';
export * from './user.entity';

export const ENTITIES = [
  ClientEntity,
  UserEntity,
  OidcPayloadEntity,
  SigningKeyEntity,
  SessionClientEntity,
  LogoutEventEntity,
  DeliveryEntity,
  DeliveryAttemptEntity,
  RetryBatchEntity,
];
