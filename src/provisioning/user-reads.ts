import { NotFoundError } from "./errors";
import type { UserRepository } from "./ports";
import type { Page, UserQuery, UserSort } from "./queries";
import type { UserView } from "./records";

/**
 * What a SCIM read of users needs, each answered by one store query (user, emails and groups together): reads are
 * most of an IdP's traffic and never involve DigiCert. Changes go through UserService.
 */
export class UserReads {
  constructor(private readonly users: Pick<UserRepository, "view" | "listViews">) {}

  async get(id: string): Promise<UserView> {
    const view = await this.users.view(id);
    if (!view) throw new NotFoundError(`User ${id} not found`);
    return view;
  }

  list(query: UserQuery | undefined, page: Page, sort: UserSort | undefined, withGroups: boolean): Promise<{ total: number; rows: UserView[] }> {
    return this.users.listViews(query, page, sort, withGroups);
  }
}
