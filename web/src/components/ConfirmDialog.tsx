import { useEffect, useRef, type ReactNode } from 'react';

/** A modal confirmation on the native <dialog>: focus is trapped, Escape closes it. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  message: string;
  /** What the decision is about, shown under the message (e.g. a tool call's input). */
  children?: ReactNode;
  confirmLabel: string;
  cancelLabel: string;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={props.onClose} className="confirm">
      <h2 id="confirm-title">{props.title}</h2>
      <p>{props.message}</p>
      {props.children}
      <div className="actions">
        <button type="button" autoFocus onClick={props.onClose}>
          {props.cancelLabel}
        </button>
        <button type="button" className="danger" onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
