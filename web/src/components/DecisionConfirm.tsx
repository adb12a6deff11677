import type { ReactNode } from 'react';
import type { Decision } from '../../../contract/run';
import { ConfirmDialog } from './ConfirmDialog';

/**
 * The confirmation before an approval is decided: the same on the run page and in the inbox. Its
 * children (the call's input) are what is decided, for where the dialog hides the card behind it.
 */
export function DecisionConfirm(props: {
  decision: Decision | null;
  tool: string | null;
  reason: string;
  children?: ReactNode;
  onConfirm: (decision: Decision) => void;
  onClose: () => void;
}) {
  const what = props.tool ?? 'continuing';
  return (
    <ConfirmDialog
      open={props.decision !== null}
      title={props.decision === 'approve' ? `Approve ${what}?` : `Reject ${what}?`}
      message={props.reason}
      confirmLabel={props.decision === 'approve' ? 'Approve' : 'Reject'}
      cancelLabel="Not now"
      onConfirm={() => {
        const decision = props.decision;
        props.onClose();
        if (decision) props.onConfirm(decision);
      }}
      onClose={props.onClose}
    >
      {props.children}
    </ConfirmDialog>
  );
}
