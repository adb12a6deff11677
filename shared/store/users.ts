/** What the identity provider last said of each user (migration 015): their verified email and name. */
import { nowIso, type Executor } from './executor';

export interface UserRecord {
  id: string;
  email: string | null;
  name: string | null;
  updatedAt: string;
}

export class UsersRepo {
  constructor(private readonly db: Executor) {}

  /** Records a user as the provider describes them; pass an email only when the provider says it is verified. */
  async upsert(user: { id: string; email?: string | null; name?: string | null }): Promise<void> {
    const email = user.email ? user.email.trim().toLowerCase() : null;
    const name = user.name ?? null;
    const now = nowIso();
    await this.db
      .insertInto('users')
      .values({ id: user.id, email, name, updated_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ email, name, updated_at: now }))
      .execute();
  }

  async get(id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && { id: r.id, email: r.email, name: r.name, updatedAt: r.updated_at };
  }

  /** The one user with this verified email; undefined when none or several have it (never guess between people). */
  async byEmail(email: string): Promise<UserRecord | undefined> {
    const rows = await this.db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).limit(2).execute();
    if (rows.length !== 1) return undefined;
    const r = rows[0]!;
    return { id: r.id, email: r.email, name: r.name, updatedAt: r.updated_at };
  }
}
