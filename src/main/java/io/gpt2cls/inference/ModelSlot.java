package io.gpt2cls.inference;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.jboss.logging.Logger;

/**
 * The model a process serves, replaceable while requests run. A request {@link #acquire()}s the
 * current model and holds it until it finishes; {@link #put} makes a new model current at once
 * (later requests get it) and the old one is closed when its last request lets go, so no forward
 * ever runs on freed memory and no request sees two models.
 *
 * <p>Reference counting: a model starts with one reference, the slot's own; each lease adds one.
 * {@link #put} drops the slot's reference to the old model, the last {@link Lease#close()} drops
 * the count to 0, which closes the model and runs its {@code onRetired} action (e.g. deleting its
 * cached files). A count that reached 0 never rises again: {@link #acquire()} retries with the
 * newer model instead.
 */
public final class ModelSlot implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ModelSlot.class);

    private final AtomicReference<Held> current = new AtomicReference<>();

    /** A model and its reference count. */
    private static final class Held {
        final TextClassifier model;
        final Runnable onRetired;
        final AtomicInteger references = new AtomicInteger(1);

        Held(TextClassifier model, Runnable onRetired) {
            this.model = model;
            this.onRetired = onRetired;
        }

        boolean retain() {
            for (int count = references.get(); count > 0; count = references.get()) {
                if (references.compareAndSet(count, count + 1)) {
                    return true;
                }
            }
            return false;
        }

        void release() {
            if (references.decrementAndGet() == 0) {
                LOG.infof("closing model %s (version %s): its last request finished", model.location(), model.version());
                model.close();
                onRetired.run();
            }
        }
    }

    /** One request's hold on a model; closing it lets the model go (once). */
    public static final class Lease implements AutoCloseable {
        private final Held held;
        private boolean closed;

        private Lease(Held held) {
            this.held = held;
        }

        public TextClassifier model() {
            return held.model;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                held.release();
            }
        }
    }

    /** A hold on the current model, or null when the slot is empty. */
    public Lease acquire() {
        while (true) {
            Held held = current.get();
            if (held == null) {
                return null;
            }
            if (held.retain()) {
                return new Lease(held);
            }
            // replaced and released between get() and retain(): the newer model is current by now
        }
    }

    /**
     * The current model, to read its location and version only; run it under {@link #acquire()}
     * (it may be closed any moment after this returns).
     */
    public TextClassifier peek() {
        Held held = current.get();
        return held == null ? null : held.model;
    }

    /**
     * Makes {@code model} current; the previous model is closed once no request holds it.
     *
     * @param onRetired runs after {@code model} is closed, on the thread that let it go last
     */
    public void put(TextClassifier model, Runnable onRetired) {
        Held previous = current.getAndSet(new Held(model, onRetired));
        if (previous != null) {
            previous.release();
        }
    }

    /** Empties the slot: the current model is closed once no request holds it. */
    @Override
    public void close() {
        Held previous = current.getAndSet(null);
        if (previous != null) {
            previous.release();
        }
    }
}
