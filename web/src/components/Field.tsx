import { useId, type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes } from 'react'

/** Label, control, hint and error of one field; the control gets the ids it must reference. */
function FieldShell({ label, error, hint, wide, control }: {
  label: string
  error?: string
  hint?: ReactNode
  wide?: boolean
  control: (ids: { id: string; describedBy: string | undefined }) => ReactNode
}) {
  const id = useId()
  const describedBy = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ')
  return (
    <div className={['field', wide ? 'field-wide' : '', error ? 'field-invalid' : ''].filter(Boolean).join(' ')}>
      <label htmlFor={id}>{label}</label>
      {control({ id, describedBy: describedBy || undefined })}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  )
}

type FieldProps = { label: string; error?: string; hint?: ReactNode; wide?: boolean }

/** A labelled input whose error is announced and tied to it with aria-describedby. */
export function Field({ label, error, hint, wide, ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <FieldShell label={label} error={error} hint={hint} wide={wide}
      control={({ id, describedBy }) => <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />} />
  )
}

/** A labelled multi-line input (e.g. `name=value` lines), always the full width of its form. */
export function TextAreaField({ label, error, hint, ...area }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <FieldShell label={label} error={error} hint={hint} wide
      control={({ id, describedBy }) => <textarea id={id} rows={3} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...area} />} />
  )
}

export function SelectField({
  label,
  value,
  onChange,
  options,
  error,
}: {
  label: string
  value: string
  onChange: (value: string) => void
  options: { value: string; label: string }[]
  error?: string
}) {
  return (
    <FieldShell label={label} error={error}
      control={({ id, describedBy }) => (
        <select id={id} value={value} onChange={(event) => onChange(event.target.value)} aria-invalid={error ? true : undefined} aria-describedby={describedBy}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )} />
  )
}

/** The form-level error of a failed submit (the server's message). */
export function FormError({ message }: { message: string | null }) {
  if (!message) return null
  return (
    <p className="form-error" role="alert">
      {message}
    </p>
  )
}
