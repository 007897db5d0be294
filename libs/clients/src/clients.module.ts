import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClientEntity } from '@slo/database';
import { CLIENT_URI_RESOLVER, ClientsService } from './clients.service';

@Module({
  imports: [TypeOrmModule.forFeature([ClientEntity])],
  providers: [ClientsService, { provide: CLIENT_URI_RESOLVER, useValue: undefined }],
  exports: [ClientsService],
})
export class ClientsModule {}
