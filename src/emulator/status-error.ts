/** An emulator failure that maps onto an HTTP answer: a status, a code (Graph's or the control API's), a message. */
export class StatusError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
