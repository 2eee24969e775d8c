import { Field } from '../../components/Field'
import { LIMIT_FIELDS, type LimitTexts } from './limits'

/** The three per-key limit inputs; empty means "the default". */
export function LimitFields({ limits, errors, onChange }: {
  limits: LimitTexts
  errors: Record<string, string | undefined>
  onChange: (limits: LimitTexts) => void
}) {
  return (
    <>
      {LIMIT_FIELDS.map(({ name, label }) => (
        <Field key={name} label={label} inputMode="numeric" value={limits[name]} error={errors[name]}
          onChange={(e) => onChange({ ...limits, [name]: e.target.value })} hint="Empty uses the default." />
      ))}
    </>
  )
}
