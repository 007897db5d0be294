import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ClientEntity } from './client.entity';

/** A client took part in an identity session (it obtained tokens in it): it is told when the session ends. */
@Entity({ name: 'session_clients' })
@Index('session_clients_sub_idx', ['sub'])
export class SessionClientEntity {
  /** The session id, as ID tokens carry it in `sid`. */
  @PrimaryColumn({ name: 'sid', type: 'varchar', length: 128 })
  sid: string;

  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 100 })
  clientId: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id' })
  client?: ClientEntity;

  @Column({ name: 'sub', type: 'varchar', length: 255 })
  sub: string;

  @Column({ name: 'first_seen_at', type: 'timestamptz', default: () => 'now()' })
  firstSeenAt: Date;
}
