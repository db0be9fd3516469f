package ai.dstack.agent.plugin.tenstorrent;

import ai.dstack.agent.spi.Device;
import java.util.ArrayList;
import java.util.List;

/** Groups chips into allocatable devices, in the four passes of docs/shim.md §5.5; indices in creation order. */
final class Boards {
    private Boards() {
    }

    private static final class Gpu {
        final String name;
        final String boardId;
        final String busId;
        long vramMib;

        Gpu(Chip chip) {
            name = chip.name();
            boardId = chip.boardId();
            busId = chip.remote() ? "" : chip.busId();
            vramMib = chip.vramMib();
        }
    }

    static List<Device> group(List<Chip> chips, String driverVersion) {
        List<Gpu> gpus = new ArrayList<>();
        // Pass 1: every left chip is a device.
        for (Chip c : chips) {
            if (c.side().equals("L")) gpus.add(new Gpu(c));
        }
        // Pass 2: a right chip adds its memory to its board's device (names must match on Blackhole).
        for (Chip c : chips) {
            if (c.side().equals("R")) {
                Gpu g = find(gpus, c, c.blackhole());
                if (g != null) g.vramMib += c.vramMib();
            }
        }
        // Pass 3: chips without sides: local Blackhole chips are devices; other boards join or start one.
        for (Chip c : chips) {
            if (!c.side().isEmpty()) continue;
            if (c.blackhole()) {
                if (!c.remote()) gpus.add(new Gpu(c));
            } else {
                Gpu g = find(gpus, c, false);
                if (g != null) g.vramMib += c.vramMib();
                else gpus.add(new Gpu(c));
            }
        }
        // Pass 4: remote Blackhole chips add their memory to their board's device of the same name.
        for (Chip c : chips) {
            if (c.side().isEmpty() && c.blackhole() && c.remote()) {
                Gpu g = find(gpus, c, true);
                if (g != null) g.vramMib += c.vramMib();
            }
        }
        List<Device> devices = new ArrayList<>();
        for (Gpu g : gpus) {
            int index = devices.size();
            devices.add(new Device(TenstorrentBoards.VENDOR, String.valueOf(index), index, g.name, g.vramMib, driverVersion, true, "", g.busId));
        }
        return devices;
    }

    private static Gpu find(List<Gpu> gpus, Chip chip, boolean nameMustMatch) {
        for (Gpu g : gpus) {
            if (g.boardId.equals(chip.boardId()) && (!nameMustMatch || g.name.equals(chip.name()))) return g;
        }
        return null;
    }
}
