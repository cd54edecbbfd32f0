// node-postgres' protocol connection, not in @types/pg: the PgBouncer test watches its Parse messages.
declare module 'pg/lib/connection' {
  export default class Connection {
    parse(query: { name?: string; text: string }): void;
  }
}
