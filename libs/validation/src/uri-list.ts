import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsString, MaxLength, ValidateIf } from 'class-validator';

/** May be left out, but not sent as null (for fields where null means nothing). */
export function Omittable(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}

/**
 * class-validator: an optional list of at most `maxItems` strings of at most `maxLength` each.
 * The shape only; what each member must be is checked by uriListProblems.
 */
export function IsUriList(limits: { maxItems: number; maxLength: number }): PropertyDecorator {
  return applyDecorators(
    Omittable(),
    IsArray(),
    ArrayMaxSize(limits.maxItems),
    IsString({ each: true }),
    MaxLength(limits.maxLength, { each: true }),
  );
}

interface ListProblem {
  field: string;
  problem: string;
}

/**
 * The problems of a list of URIs: each bad member named by its index (`redirect_uris[2]`), with
 * what `check` says of it, and the list itself when a value appears twice.
 */
export function uriListProblems(field: string, values: string[], check: (value: string) => string | null): ListProblem[] {
  const problems: ListProblem[] = [];
  values.forEach((value, i) => {
    const problem = check(value);
    if (problem) problems.push({ field: `${field}[${i}]`, problem });
  });
  if (new Set(values).size !== values.length) problems.push({ field, problem: 'must not contain duplicates' });
  return problems;
}
