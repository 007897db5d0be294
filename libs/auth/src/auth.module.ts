import { Module } from '@nestjs/common';
import { ClientsModule } from '@slo/clients';
import { ServerTokenVerifier } from './server-token-verifier';

@Module({ imports: [ClientsModule], providers: [ServerTokenVerifier], exports: [ServerTokenVerifier] })
export class AuthModule {}
