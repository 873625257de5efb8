"""Console entry point `source-amplitude`: the CDK's entry point, plus three things only this program does:
config errors from our own parser (they name the field and the fix), said without a traceback; the raw-events fast
path, which prints RecordBatch payloads as they are (cdk_internals.BatchingEntrypoint); and a prompt, quiet stop on
SIGINT, SIGTERM or a closed stdout, which closes everything the read holds and says in one line where the next sync
resumes."""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import signal
import sys
from collections.abc import Generator, Iterable
from datetime import datetime, timezone
from typing import Any, BinaryIO, NoReturn, Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, ConnectorSpecification, FailureType, Level, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.cdk_internals import BatchingEntrypoint, Output
from source_amplitude.config import parse_config
from source_amplitude.pipeline.record_batch import FileSlice
from source_amplitude.source import SourceAmplitude, SyncStopped

INTERRUPT_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal, as a shell reports them
BROKEN_PIPE_EXIT_CODE = 141  # 128 + SIGPIPE


class AmplitudeEntrypoint(BatchingEntrypoint):
    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Any) -> None:
        parse_config(config, datetime.now(timezone.utc), os.environ)
        AirbyteEntrypoint.validate_connection(source_spec, config)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM (the platform's cancel, a pod being stopped): raised on the main thread, wherever it is."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def raise_broken_pipe(handler: logging.Handler) -> None:
    """A log line written to a closed stdout (`read | head`) would make the logging module print its own traceback to
    stderr and carry on; the BrokenPipeError is raised instead, so that the read stops quietly like any other write
    to the closed pipe."""
    report = handler.handleError

    def handle_error(record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, BrokenPipeError):
            raise error
        report(record)

    handler.handleError = handle_error  # type: ignore[method-assign]


def run() -> None:
    for signum in INTERRUPT_EXIT_CODES:
        signal.signal(signum, raise_interrupted)
    source = SourceAmplitude(emit_batches=True)
    entrypoint = AmplitudeEntrypoint(source)
    for handler in logging.getLogger().handlers:  # the CDK's console handler, set up by the entry point
        raise_broken_pipe(handler)
    parsed = entrypoint.parse_args(sys.argv[1:])
    gc.freeze()  # what start-up built (the CDK, its models) stays out of the collector's passes over a long read
    text, binary = sys.stdout, sys.stdout.buffer
    outputs = entrypoint.run(parsed)
    output: Optional[Output] = None  # the output being written, until it is whole
    try:
        for output in outputs:
            if isinstance(output, bytes):
                text.flush()  # log lines printed by the CDK's logger go through the text layer: keep the order
                binary.write(output)
            elif isinstance(output, FileSlice):
                text.flush()
                binary.flush()
                write_slice(binary, output)
            else:
                text.write(output if output.endswith("\n") else output + "\n")
            output = None
        text.flush()
        default_signal_actions()  # every message is out: a signal from now on (PyAirbyte's stop) just ends it
    except KeyboardInterrupt as interrupted:
        name = interrupted.signal_name if isinstance(interrupted, Interrupted) else "SIGINT"
        if output is not None:  # cut off mid-line: end that line, so that the next one is a message of its own
            with contextlib.suppress(OSError, ValueError):
                text.flush()
                binary.write(b"\n")
        stop(source, outputs, signal.Signals[name], f"Interrupted by {name}")
    except AirbyteTracedException as error:
        if error.failure_type is not FailureType.config_error and not isinstance(error, SyncStopped):
            raise  # the CDK's hook logs it with its traceback (a bug to report) and emits the trace
        # A config error, or a failure every stream met, is said in the connector's words (what to change); its
        # traceback would only bury that.
        text.flush()
        error.emit_message()
        default_signal_actions()
        sys.exit(1)
    except BrokenPipeError:  # `read | head`: whoever read stdout is gone; nothing more can be said there
        os.dup2(os.open(os.devnull, os.O_WRONLY), binary.fileno())
        stop(source, outputs, None, None)


def default_signal_actions() -> None:
    """After the last message: a SIGTERM or SIGINT during the interpreter's exit (a client that stops the connector
    once it has its answer, as PyAirbyte does) ends the process by the signal, not with a traceback from the
    handler raising inside the exit's cleanup."""
    for signum in INTERRUPT_EXIT_CODES:
        signal.signal(signum, signal.SIG_DFL)


def stop(
    source: SourceAmplitude, outputs: Iterable[Output], signum: Optional[signal.Signals], reason: Optional[str]
) -> NoReturn:
    """Close every download, worker process and temporary directory of the read, say in one line what was
    interrupted and where the next sync resumes, and end now: a request still waiting for Amplitude's first byte
    cannot be interrupted from Python, so the process does not wait for it (it writes nothing more). A signal ends
    the process as that signal does once the cleanup is done (its default action, re-raised): a parent process sees
    -15 (PyAirbyte accepts only 0 and that), a shell 143 (or 130 for SIGINT). A closed stdout exits with 141."""
    for other in INTERRUPT_EXIT_CODES:
        signal.signal(other, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
    if isinstance(outputs, Generator):
        outputs.close()  # GeneratorExit through the read: each stream closes what it holds
    stopped = source.close()
    if reason is not None:
        detail = "; ".join(stopped) or "no stream was reading"
        message = (
            f"{reason}: {detail}. Every record before the last STATE message is complete; the next sync with that "
            "state resumes there."
        )
        log = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.WARN, message=message))
        with contextlib.suppress(OSError):
            sys.stdout.write(AirbyteEntrypoint.airbyte_message_to_string(log) + "\n")
            sys.stdout.flush()
    if signum is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
            signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
            os.kill(os.getpid(), signum)
    os._exit(INTERRUPT_EXIT_CODES[signum] if signum is not None else BROKEN_PIPE_EXIT_CODE)


def write_slice(out: BinaryIO, part: FileSlice) -> None:
    """Copy the slice to `out` in the kernel; where that is not possible (not a file descriptor, or an old kernel),
    through this process."""
    offset, left = part.offset, part.length
    try:
        target, source = out.fileno(), part.file.fileno()
        while left:
            sent = os.sendfile(target, source, offset, left)
            if sent == 0:
                break
            offset, left = offset + sent, left - sent
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    if left:
        out.write(part.read(offset, left))


if __name__ == "__main__":
    run()
