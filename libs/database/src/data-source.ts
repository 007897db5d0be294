import 'reflect-metadata';
import { loadConfigFromProcess } from '@slo/config';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

/** Used by the TypeORM CLI (npm run migration:*). */
export default new DataSource(dataSourceOptions(loadConfigFromProcess().database.url));
