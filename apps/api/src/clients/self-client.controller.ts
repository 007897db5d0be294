import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClientsService, ClientView, ClientViewWithWebhookSecret, toClientView, withIssuedWebhookSecret } from '@slo/clients';
import { CurrentPrincipal, Principal, RequireScopes } from '../auth/principal';
import { SelfServiceClientDto } from './client.dto';

/** A client manages its own redirect URIs, origins and logout endpoints (scope `client:self`). */
@ApiTags('clients')
@ApiBearerAuth()
@RequireScopes('client:self')
@Controller('v1/clients/me')
export class SelfClientController {
  constructor(private readonly clients: ClientsService) {}

  @Get()
  @ApiOperation({ summary: "The calling client's own registration" })
  async get(@CurrentPrincipal() me: Principal): Promise<ClientView> {
    return toClientView(await this.clients.get(me.clientId));
  }

  @Patch()
  @ApiOperation({ summary: 'Change own redirect URIs, web origins, logout endpoints and delivery preferences' })
  async update(@CurrentPrincipal() me: Principal, @Body() dto: SelfServiceClientDto): Promise<ClientViewWithWebhookSecret> {
    const { client, webhookSecret } = await this.clients.update(me.clientId, dto);
    return withIssuedWebhookSecret(client, webhookSecret);
  }
}
