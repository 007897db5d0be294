import { ClientEntity } from './client.entity';
import { OidcPayloadEntity } from './oidc-payload.entity';
import { SigningKeyEntity } from './signing-key.entity';
import { UserEntity } from './user.entity';

export * from './client.entity';
export * from './oidc-payload.entity';
export * from './signing-key.entity';
export * from './user.entity';

export const ENTITIES = [ClientEntity, UserEntity, OidcPayloadEntity, SigningKeyEntity];
