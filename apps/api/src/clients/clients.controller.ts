import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClientsService, ClientView, ClientViewWithWebhookSecret, toClientView, withIssuedWebhookSecret } from '@slo/clients';
import type { Page } from '@slo/database';
import { RequireScopes } from '../auth/principal';
import { PAGE_SIZES, pageRequest } from '../page-query';
import { CreateClientDto, ListClientsQueryDto, UpdateClientDto } from './client.dto';

/** Operators manage every client (scope `admin`). */
@ApiTags('clients')
@ApiBearerAuth()
@RequireScopes('admin')
@Controller('v1/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  @ApiOperation({ summary: 'Register a client; the response shows its secret (and webhook secret) once' })
  async create(@Body() dto: CreateClientDto): Promise<ClientViewWithWebhookSecret & { client_secret: string | null }> {
    const { client, secret, webhookSecret } = await this.clients.create(dto);
    return { ...withIssuedWebhookSecret(client, webhookSecret), client_secret: secret };
  }

  @Get()
  @ApiOperation({ summary: 'List clients, newest first (cursor pagination)' })
  async list(@Query() q: ListClientsQueryDto): Promise<Page<ClientView>> {
    const page = await this.clients.list(pageRequest(q, PAGE_SIZES.clients));
    return { data: page.data.map(toClientView), next_cursor: page.next_cursor };
  }

  @Get(':clientId')
  async get(@Param('clientId') clientId: string): Promise<ClientView> {
    return toClientView(await this.clients.get(clientId));
  }

  @Patch(':clientId')
  @ApiOperation({ summary: 'Change a client; switching to webhook delivery shows the new webhook secret once' })
  async update(@Param('clientId') clientId: string, @Body() dto: UpdateClientDto): Promise<ClientViewWithWebhookSecret> {
    const { client, webhookSecret } = await this.clients.update(clientId, dto);
    return withIssuedWebhookSecret(client, webhookSecret);
  }

  @Delete(':clientId')
  @HttpCode(204)
  async remove(@Param('clientId') clientId: string): Promise<void> {
    await this.clients.remove(clientId);
  }

  @Post(':clientId/secret')
  @ApiOperation({ summary: 'Rotate the secret: the old one stops working, the new one is shown once' })
  async rotateSecret(
    @Param('clientId') clientId: string,
  ): Promise<{ client_id: string; client_secret: string; secret_rotated_at: string }> {
    const { client, secret } = await this.clients.rotateSecret(clientId);
    return { client_id: client.clientId, client_secret: secret, secret_rotated_at: client.secretRotatedAt!.toISOString() };
  }
}
