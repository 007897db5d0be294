import { generateWebhookSecret } from '@slo/clients';
import { Webhook } from 'standardwebhooks';
import { webhookHeaders } from './webhook-signature';

describe('webhookHeaders (Standard Webhooks)', () => {
  const body = JSON.stringify({ type: 'session.logout', data: { sub: 'u' } });

  it('is verified by the standardwebhooks library', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders([secret], 'msg_1', body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('signs with every secret during a rotation, so receivers holding either one verify', () => {
    const [old, next] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = webhookHeaders([next, old], 'msg_2', body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(old).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(next).verify(body, headers)).not.toThrow();
  });

  it('does not verify a changed body, another id or another secret', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders([secret], 'msg_3', body);
    expect(() => new Webhook(secret).verify(body.replace('"u"', '"v"'), headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_4' })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });
});
