import { INestApplicationContext } from '@nestjs/common';
import { UsersService } from '@slo/accounts';
import { ClientsService } from '@slo/clients';
import { AppConfig } from '@slo/config';
import { AppError, ErrorCode } from '@slo/errors';

/** The demo client app (apps/demo) as npm start runs it, and its user. */
const DEMO = {
  clientId: 'demo-app',
  origin: 'http://localhost:3000',
  redirectUri: 'http://localhost:3000/callback',
  postLogoutRedirectUri: 'http://localhost:3000/',
  backchannelLogoutUri: 'http://localhost:3000/backchannel-logout',
  userEmail: 'demo@example.com',
  userPassword: 'demo-password-123',
};

type Out = (line: string) => void;

export interface Command {
  summary: string;
  usage: string;
  run(ctx: INestApplicationContext, config: AppConfig, args: Record<string, string | undefined>, out: Out): Promise<void>;
}

export const COMMANDS: Record<string, Command> = {
  'create-admin': {
    summary: 'create an operator client (scopes admin, client:self, logout:emit) and print its secret once',
    usage: 'create-admin [--client-id ID] [--name NAME]',
    async run(ctx, _config, args, out) {
      const { client, secret } = await ctx.get(ClientsService).create({
        client_id: args['client-id'],
        client_name: args.name ?? 'Operator',
        grant_types: ['client_credentials'],
        server_scopes: ['admin', 'client:self', 'logout:emit'],
      });
      out(`client_id=${client.clientId}`);
      out(`client_secret=${secret}`);
      out('The secret is shown only now; keep it in a secret store.');
    },
  },
  'create-user': {
    summary: 'create an end user who can log in at the identity service',
    usage: 'create-user --email EMAIL --password PASSWORD [--name NAME]',
    async run(ctx, _config, args, out) {
      if (!args.email || !args.password)
        throw new AppError(ErrorCode.ValidationFailed, 'create-user needs --email and --password');
      const user = await ctx.get(UsersService).create({ email: args.email, password: args.password, name: args.name });
      out(`created user ${user.email} (sub ${user.id})`);
    },
  },
  'seed-demo': {
    summary: 'create the demo client and demo user for local development (idempotent)',
    usage: 'seed-demo',
    async run(ctx, config, _args, out) {
      if (!config.isLocal)
        throw new AppError(ErrorCode.Conflict, 'seed-demo only runs in local development (NODE_ENV other than production)');
      const clients = ctx.get(ClientsService);
      const users = ctx.get(UsersService);
      const fields = {
        client_name: 'Demo application',
        redirect_uris: [DEMO.redirectUri],
        post_logout_redirect_uris: [DEMO.postLogoutRedirectUri],
        web_origins: [DEMO.origin],
        backchannel_logout_uri: DEMO.backchannelLogoutUri,
      };
      // An existing demo client is brought up to date (a database from an older version) and gets a fresh secret.
      const { secret } = (await clients.findActive(DEMO.clientId))
        ? await clients.update(DEMO.clientId, fields).then(() => clients.rotateSecret(DEMO.clientId))
        : await clients.create({ client_id: DEMO.clientId, ...fields });
      if (!(await users.findByEmail(DEMO.userEmail))) {
        await users.create({ email: DEMO.userEmail, password: DEMO.userPassword, name: 'Demo User' });
      }
      out(`demo client: client_id=${DEMO.clientId} client_secret=${secret} app=${DEMO.origin}/`);
      out(`demo user:   ${DEMO.userEmail} / ${DEMO.userPassword}`);
    },
  },
};
