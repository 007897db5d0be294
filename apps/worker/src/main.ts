import { hello } from '@slo/config';
console.log(hello);
