import { Component, type ReactNode } from 'react';

/** Shows a rendering failure in words instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { message: string | null }> {
  override state = { message: null as string | null };

  static getDerivedStateFromError(error: unknown) {
    return { message: error instanceof Error ? error.message : String(error) };
  }

  override render() {
    if (this.state.message !== null) {
      return (
        <p className="state error" role="alert">
          This page could not be shown: {this.state.message}. Go back to the <a href="#/">inventory</a> or
          reload.
        </p>
      );
    }
    return this.props.children;
  }
}
