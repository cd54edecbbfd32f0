export { adminQuery, withDatabase } from '../../src/db/admin';
