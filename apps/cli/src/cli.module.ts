import { DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from '@slo/accounts';
import { ClientsModule } from '@slo/clients';
import { AppConfig, AppConfigModule } from '@slo/config';
import { DatabaseModule } from '@slo/database';

@Module({})
export class CliModule {
  static with(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [AppConfigModule.forRoot(config), DatabaseModule.forRoot(), ClientsModule, AccountsModule],
    };
  }
}
