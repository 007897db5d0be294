import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, FieldProblem } from '@slo/errors';

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) {
      const problems = Object.entries(e.constraints).map(([rule, msg]) =>
        rule === 'whitelistValidation' ? 'is not a known field' : msg.replace(new RegExp(`^${e.property}\\s`), ''),
      );
      out.push({ field, problems });
    }
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** The global pipe: strips nothing silently — unknown fields are refused — and names every bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => AppError.validationMany(flatten(errors)),
  });
}
