import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DeliveryQueries, DeliveryQueue, Viewer } from '@slo/delivery';
import { AppError, ErrorCode } from '@slo/errors';
import { CurrentPrincipal, ownClientScope, Principal, RequireScopes } from '../auth/principal';
import { PAGE_SIZES, pageRequest } from '../page-query';
import { ListDeliveriesQueryDto, ListEventsQueryDto, RetryQueryDto } from './delivery.dto';

function viewerOf(p: Principal): Viewer {
  return { clientId: ownClientScope(p) };
}

const date = (v?: string) => (v ? new Date(v) : undefined);

@ApiTags('deliveries')
@ApiBearerAuth()
@RequireScopes('admin', 'client:self')
@Controller('v1')
export class DeliveriesController {
  constructor(
    private readonly queries: DeliveryQueries,
    private readonly queue: DeliveryQueue,
  ) {}

  @Get('logout-events')
  @ApiOperation({ summary: 'Logout events, newest first (filters: sub, sid, client_id, trigger, since, until)' })
  listEvents(@CurrentPrincipal() me: Principal, @Query() q: ListEventsQueryDto) {
    return this.queries.listEvents(
      viewerOf(me),
      { sub: q.sub, sid: q.sid, clientId: q.client_id, trigger: q.trigger, since: date(q.since), until: date(q.until) },
      pageRequest(q, PAGE_SIZES.deliveries),
    );
  }

  @Get('logout-events/:id')
  @ApiOperation({ summary: 'One logout event with the state of each of its deliveries' })
  getEvent(@CurrentPrincipal() me: Principal, @Param('id') id: string) {
    return this.queries.getEvent(viewerOf(me), id);
  }

  @Get('deliveries')
  @ApiOperation({ summary: 'Deliveries, newest first (filters: client_id, status, event_id, since, until)' })
  listDeliveries(@CurrentPrincipal() me: Principal, @Query() q: ListDeliveriesQueryDto) {
    return this.queries.listDeliveries(
      viewerOf(me),
      { clientId: q.client_id, status: q.status, eventId: q.event_id, since: date(q.since), until: date(q.until) },
      pageRequest(q, PAGE_SIZES.deliveries),
    );
  }

  @Get('deliveries/:id')
  getDelivery(@CurrentPrincipal() me: Principal, @Param('id') id: string) {
    return this.queries.getDelivery(viewerOf(me), id);
  }

  @Get('deliveries/:id/attempts')
  @ApiOperation({ summary: 'Every attempt of a delivery: number, trigger, timing, answer' })
  async attempts(@CurrentPrincipal() me: Principal, @Param('id') id: string) {
    return { data: await this.queries.attempts(viewerOf(me), id) };
  }

  @Post('deliveries/:id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'One manual attempt now, with a fresh token (delivered ones only with force=true)' })
  async retry(@CurrentPrincipal() me: Principal, @Param('id') id: string, @Query() q: RetryQueryDto) {
    const delivery = await this.queries.getDelivery(viewerOf(me), id);
    // A worker makes the attempt (on its event's shard), through the endpoint's limit and breaker like every send.
    const result = await this.queue.manual({ id, eventId: delivery.event_id }, q.force ?? false);
    if (result.kind === 'refused') {
      const now = await this.queries.getDelivery(viewerOf(me), id);
      const why =
        now.status === 'delivering'
          ? 'an attempt is in flight'
          : now.status === 'delivered'
            ? 'it was delivered; add force=true to send it again'
            : 'its client has no active back-channel endpoint';
      throw new AppError(ErrorCode.Conflict, `delivery ${id} cannot be retried now: ${why}`);
    }
    if (result.kind === 'later' && result.reason !== 'retry') {
      throw new AppError(
        ErrorCode.Conflict,
        `delivery ${id} cannot be retried now: ${result.reason === 'breaker_open' ? "the endpoint's circuit breaker is open" : 'the endpoint is busy'}; it is scheduled for ${new Date(result.at).toISOString()}`,
      );
    }
    const [attempt] = (await this.queries.attempts(viewerOf(me), id)).slice(-1);
    return { delivery: await this.queries.getDelivery(viewerOf(me), id), attempt };
  }
}
