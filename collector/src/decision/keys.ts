// The lockout key functions live in schema/lock-keys.ts (pure, shared with the PostgreSQL store);
// decision/ re-exports them for the rules, /v1/check and the admin actions.
export * from '../schema/lock-keys';
