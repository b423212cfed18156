"""C++ pieces compiled into the ns-3 worker with cppyy: a packet stamp, a traffic source, and the recorder.

Python callables cannot be scheduled by ns-3 or connected to its trace sources, and per-packet work in Python
would be slow, so everything that runs per packet lives here:

- ``StampTag``: a packet tag carrying the flow, a sequence number and the send time (ns).
- ``Source``: an application sending one flow's packets with nettwin's traffic models (``cbr`` with a random
  phase, ``poisson``, ``onoff`` as ns-3's OnOffApplication including the bits carried over between on periods)
  and packet-size models (fixed, exponential, binomial). Sizes are bytes on the link: the UDP payload is the
  size minus the headers ns-3 adds; a real-valued size is rounded up or down at random so that the mean holds.
- ``Recorder``: per-flow and per-link counters of one run, fed by the sink sockets and trace sources (see
  :mod:`nettwin.sim.kpi` for what each counter means), plus the path each packet took when asked to trace paths.

Only this module talks C++; the builders in :mod:`~nettwin.sim.ns3.wired` and :mod:`~nettwin.sim.ns3.wireless`
wire these objects into ns-3 topologies.
"""

from __future__ import annotations

__all__ = ["CPP_SOURCE", "define"]

CPP_SOURCE = r"""
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace nettwin {

class StampTag : public ns3::Tag {
  public:
    uint32_t flow = 0;
    uint32_t seq = 0;
    int64_t sent = 0;  // send time, ns

    static ns3::TypeId GetTypeId() {
        static ns3::TypeId tid = ns3::TypeId("nettwin::StampTag")
                                     .SetParent<ns3::Tag>()
                                     .SetGroupName("Nettwin")
                                     .AddConstructor<StampTag>();
        return tid;
    }
    ns3::TypeId GetInstanceTypeId() const override { return GetTypeId(); }
    uint32_t GetSerializedSize() const override { return 16; }
    void Serialize(ns3::TagBuffer b) const override {
        b.WriteU32(flow);
        b.WriteU32(seq);
        b.WriteU64(static_cast<uint64_t>(sent));
    }
    void Deserialize(ns3::TagBuffer b) override {
        flow = b.ReadU32();
        seq = b.ReadU32();
        sent = static_cast<int64_t>(b.ReadU64());
    }
    void Print(std::ostream& os) const override { os << "flow=" << flow << " seq=" << seq << " sent=" << sent; }
};

class Recorder;

struct LinkProbe {
    Recorder* rec;
    uint32_t link;
    double rate;  // bit/s
    uint32_t waiting = 0;
    double lastChange = 0.0;
    void TxBegin(ns3::Ptr<const ns3::Packet> p);
    void Drop(ns3::Ptr<const ns3::Packet> p);
    void Queue(uint32_t oldValue, uint32_t newValue);
};

struct WifiProbe {
    Recorder* rec;
    uint32_t node;
    void Dropped(ns3::WifiMacDropReason reason, ns3::Ptr<const ns3::WifiMpdu> mpdu);
};

struct NodeProbe {
    Recorder* rec;
    uint32_t node;
    void Forward(const ns3::Ipv4Header& header, ns3::Ptr<const ns3::Packet> p, uint32_t iface);
};

// Counters of one run. Times in seconds of simulated time; the measurement window is [start, end).
class Recorder {
  public:
    Recorder(uint32_t nFlows, uint32_t nLinks, double start, double end, double histMin, double histRatio,
             uint32_t histBins, uint32_t headerBytes)
        : start(start), end(end), startNs(std::llround(start * 1e9)), histMin(histMin),
          invLogRatio(1.0 / std::log(histRatio)), histBins(histBins), headerBytes(headerBytes),
          tx(nFlows, 0), rx(nFlows, 0), rxBytes(nFlows, 0.0), delaySum(nFlows, 0.0), delaySq(nFlows, 0.0),
          jitterSum(nFlows, 0.0), lastDelay(nFlows, std::numeric_limits<double>::quiet_NaN()),
          hist(static_cast<size_t>(nFlows) * histBins, 0), busy(nLinks, 0.0), wait(nLinks, 0.0),
          linkDrops(nLinks, 0), linkTx(nLinks, 0), flowSrc(nFlows, 0), flowDst(nFlows, 0), pathCount(nFlows),
          lastPath(nFlows), pathChanges(nFlows, 0) {}

    double start, end;
    int64_t startNs;
    double histMin, invLogRatio;
    uint32_t histBins, headerBytes;

    std::vector<int64_t> tx, rx;
    std::vector<double> rxBytes, delaySum, delaySq, jitterSum, lastDelay;
    std::vector<int64_t> hist;
    std::vector<double> busy, wait;
    std::vector<int64_t> linkDrops, linkTx;
    uint64_t packets = 0, hops = 0;

    bool tracePaths = false;
    std::vector<uint32_t> flowSrc, flowDst;
    // Per flow: measured packets delivered along each distinct node path, and the path of the latest one.
    std::vector<std::map<std::vector<uint32_t>, int64_t>> pathCount;
    std::vector<std::vector<uint32_t>> lastPath;
    std::vector<int64_t> pathChanges;

    bool Measured(int64_t sentNs) const { return sentNs >= startNs; }
    double Overlap(double a, double b) const { return std::max(0.0, std::min(b, end) - std::max(a, start)); }

    void SetFlow(uint32_t f, uint32_t src, uint32_t dst) { flowSrc[f] = src; flowDst[f] = dst; }
    void AddLinkKey(uint32_t u, uint32_t v, uint32_t link) { linkOf[Key(u, v)] = link; }

    void AttachSink(ns3::Ptr<ns3::Node> node, uint16_t port) {
        auto socket = ns3::Socket::CreateSocket(node, ns3::UdpSocketFactory::GetTypeId());
        socket->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), port));
        socket->SetRecvCallback(ns3::MakeCallback(&Recorder::Receive, this));
        sinks.push_back(socket);
        sinkNode.push_back(node->GetId());
    }

    void AttachLink(ns3::Ptr<ns3::NetDevice> device, uint32_t link, double rate) {
        auto dev = ns3::DynamicCast<ns3::PointToPointNetDevice>(device);
        auto probe = std::make_unique<LinkProbe>();
        probe->rec = this;
        probe->link = link;
        probe->rate = rate;
        dev->TraceConnectWithoutContext("PhyTxBegin", ns3::MakeCallback(&LinkProbe::TxBegin, probe.get()));
        auto queue = dev->GetQueue();
        queue->TraceConnectWithoutContext("Drop", ns3::MakeCallback(&LinkProbe::Drop, probe.get()));
        queue->TraceConnectWithoutContext("PacketsInQueue", ns3::MakeCallback(&LinkProbe::Queue, probe.get()));
        linkProbes.push_back(std::move(probe));
    }

    void AttachNode(ns3::Ptr<ns3::Node> node) {
        auto probe = std::make_unique<NodeProbe>();
        probe->rec = this;
        probe->node = node->GetId();
        auto ipv4 = node->GetObject<ns3::Ipv4L3Protocol>();
        ipv4->TraceConnectWithoutContext("UnicastForward", ns3::MakeCallback(&NodeProbe::Forward, probe.get()));
        nodeProbes.push_back(std::move(probe));
    }

    // Wi-Fi: count measured packets the MAC of `device`'s node drops (retry limit, queue) per radio link.
    void AttachWifi(ns3::Ptr<ns3::NetDevice> device) {
        auto dev = ns3::DynamicCast<ns3::WifiNetDevice>(device);
        uint32_t node = dev->GetNode()->GetId();
        macNode[ns3::Mac48Address::ConvertFrom(dev->GetAddress())] = node;
        auto probe = std::make_unique<WifiProbe>();
        probe->rec = this;
        probe->node = node;
        dev->GetMac()->TraceConnectWithoutContext("DroppedMpdu", ns3::MakeCallback(&WifiProbe::Dropped, probe.get()));
        wifiProbes.push_back(std::move(probe));
    }

    void MacDropped(uint32_t node, ns3::Mac48Address to, ns3::Ptr<const ns3::Packet> p) {
        StampTag tag;
        if (!p->PeekPacketTag(tag) || !Measured(tag.sent)) {
            return;
        }
        auto peer = macNode.find(to);
        if (peer == macNode.end()) {
            return;
        }
        auto it = linkOf.find(Key(node, peer->second));
        if (it != linkOf.end()) {
            linkDrops[it->second] += 1;
        }
    }

    void Receive(ns3::Ptr<ns3::Socket> socket) {
        ns3::Ptr<ns3::Packet> p;
        uint32_t here = socket->GetNode()->GetId();
        while ((p = socket->Recv())) {
            StampTag tag;
            if (!p->PeekPacketTag(tag) || tag.flow >= tx.size()) {
                continue;
            }
            uint32_t f = tag.flow;
            if (tracePaths) {
                FinishPath(tag, here);
            }
            if (!Measured(tag.sent)) {
                continue;
            }
            double d = (ns3::Simulator::Now().GetNanoSeconds() - tag.sent) * 1e-9;
            rx[f] += 1;
            rxBytes[f] += p->GetSize() + headerBytes;
            delaySum[f] += d;
            delaySq[f] += d * d;
            if (!std::isnan(lastDelay[f])) {
                jitterSum[f] += std::fabs(d - lastDelay[f]);
            }
            lastDelay[f] = d;
            uint32_t k = 0;
            if (d >= histMin) {
                k = std::min(static_cast<uint32_t>(std::log(d / histMin) * invLogRatio) + 1, histBins - 1);
            }
            hist[static_cast<size_t>(f) * histBins + k] += 1;
        }
    }

    void Forwarded(const StampTag& tag, uint32_t node) {
        if (!tracePaths || tag.flow >= tx.size()) {
            return;
        }
        auto& hopsSoFar = inflight[Key(tag.flow, tag.seq)];
        uint32_t prev = hopsSoFar.empty() ? flowSrc[tag.flow] : hopsSoFar.back();
        if (Measured(tag.sent)) {
            CountHop(prev, node);
        }
        hopsSoFar.push_back(node);
    }

    // Close the time integrals at the end of the run.
    void Finish() {
        double now = ns3::Simulator::Now().GetSeconds();
        for (auto& probe : linkProbes) {
            wait[probe->link] += probe->waiting * Overlap(probe->lastChange, now);
            probe->lastChange = now;
        }
        inflight.clear();
    }

    // Number of per-packet in-flight path records still open (for tests).
    size_t OpenPaths() const { return inflight.size(); }

    // The loop-free path that delivered most of flow f's measured packets (the shortest such path on a tie; empty
    // if none arrived), and how many packets it delivered. Packets caught in a transient routing loop still
    // arrive, but a loop is no route to learn from.
    std::vector<uint32_t> MainPath(uint32_t f) const { return MainPathEntry(f).first; }
    int64_t MainPathPackets(uint32_t f) const { return MainPathEntry(f).second; }

    // The delay histogram as flattened (flow * bins + bin, count) pairs of its non-empty bins.
    std::vector<int64_t> HistNonzero() const {
        std::vector<int64_t> out;
        for (size_t i = 0; i < hist.size(); ++i) {
            if (hist[i]) {
                out.push_back(static_cast<int64_t>(i));
                out.push_back(hist[i]);
            }
        }
        return out;
    }

  private:
    static uint64_t Key(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

    void CountHop(uint32_t u, uint32_t v) {
        auto it = linkOf.find(Key(u, v));
        if (it != linkOf.end()) {
            linkTx[it->second] += 1;
        }
    }

    void FinishPath(const StampTag& tag, uint32_t here) {
        uint32_t f = tag.flow;
        auto it = inflight.find(Key(f, tag.seq));
        std::vector<uint32_t> path{flowSrc[f]};
        if (it != inflight.end()) {
            path.insert(path.end(), it->second.begin(), it->second.end());
            inflight.erase(it);
        }
        if (!Measured(tag.sent)) {
            return;
        }
        CountHop(path.back(), here);
        path.push_back(here);
        if (!lastPath[f].empty() && path != lastPath[f]) {
            pathChanges[f] += 1;
        }
        pathCount[f][path] += 1;
        lastPath[f] = path;
    }

    std::pair<std::vector<uint32_t>, int64_t> MainPathEntry(uint32_t f) const {
        std::pair<std::vector<uint32_t>, int64_t> best{{}, 0};
        for (const auto& [path, count] : pathCount[f]) {
            std::vector<uint32_t> sorted(path);
            std::sort(sorted.begin(), sorted.end());
            if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
                continue;
            }
            if (count > best.second || (count == best.second && path.size() < best.first.size())) {
                best = {path, count};
            }
        }
        return best;
    }

    std::unordered_map<uint64_t, uint32_t> linkOf;
    std::unordered_map<uint64_t, std::vector<uint32_t>> inflight;
    std::vector<std::unique_ptr<LinkProbe>> linkProbes;
    std::vector<std::unique_ptr<NodeProbe>> nodeProbes;
    std::vector<std::unique_ptr<WifiProbe>> wifiProbes;
    std::map<ns3::Mac48Address, uint32_t> macNode;
    std::vector<ns3::Ptr<ns3::Socket>> sinks;
    std::vector<uint32_t> sinkNode;
};

inline void LinkProbe::TxBegin(ns3::Ptr<const ns3::Packet> p) {
    double now = ns3::Simulator::Now().GetSeconds();
    double dur = p->GetSize() * 8.0 / rate;
    rec->busy[link] += rec->Overlap(now, now + dur);
    if (now >= rec->start && now < rec->end) {
        rec->linkTx[link] += 1;
    }
    rec->hops += 1;
}

inline void LinkProbe::Drop(ns3::Ptr<const ns3::Packet> p) {
    rec->hops += 1;
    StampTag tag;
    if (p->PeekPacketTag(tag) && rec->Measured(tag.sent)) {
        rec->linkDrops[link] += 1;
    }
}

inline void LinkProbe::Queue(uint32_t oldValue, uint32_t newValue) {
    double now = ns3::Simulator::Now().GetSeconds();
    rec->wait[link] += oldValue * rec->Overlap(lastChange, now);
    lastChange = now;
    waiting = newValue;
}

inline void WifiProbe::Dropped(ns3::WifiMacDropReason, ns3::Ptr<const ns3::WifiMpdu> mpdu) {
    rec->MacDropped(node, mpdu->GetHeader().GetAddr1(), mpdu->GetPacket());
}

inline void NodeProbe::Forward(const ns3::Ipv4Header&, ns3::Ptr<const ns3::Packet> p, uint32_t) {
    StampTag tag;
    if (p->PeekPacketTag(tag)) {
        rec->Forwarded(tag, node);
    }
}

// One flow's traffic. Times inside are scenario seconds; ns-3 time = offset + scenario time.
class Source : public ns3::Application {
  public:
    enum Model { CBR = 0, POISSON = 1, ONOFF = 2 };
    enum SizeDist { FIXED = 0, EXPONENTIAL = 1, BINOMIAL = 2 };

    static ns3::TypeId GetTypeId() {
        static ns3::TypeId tid = ns3::TypeId("nettwin::Source")
                                     .SetParent<ns3::Application>()
                                     .SetGroupName("Nettwin")
                                     .AddConstructor<Source>();
        return tid;
    }

    Source() {
        uni = ns3::CreateObject<ns3::UniformRandomVariable>();
        expo = ns3::CreateObject<ns3::ExponentialRandomVariable>();
    }

    void Configure(Recorder* recorder, uint32_t flowIndex, ns3::Ipv4Address peerAddress, uint16_t peerPort,
                   int trafficModel, double bitRate, double meanOn, double meanOff, int sizeDist, double sizeMean,
                   double sizeSmall, double sizeLarge, double sizeP, uint32_t header, double timeOffset,
                   double sendUntil) {
        rec = recorder;
        flow = flowIndex;
        peer = peerAddress;
        port = peerPort;
        model = trafficModel;
        rate = bitRate;
        tauOn = meanOn;
        tauOff = meanOff;
        dist = sizeDist;
        mean = sizeMean;
        small = sizeSmall;
        large = sizeLarge;
        p = sizeP;
        headerBytes = header;
        offset = timeOffset;
        duration = sendUntil;
    }

    int64_t AssignStreams(int64_t stream) override {
        uni->SetStream(stream);
        expo->SetStream(stream + 1);
        return 2;
    }

  private:
    void StartApplication() override {
        socket = ns3::Socket::CreateSocket(GetNode(), ns3::UdpSocketFactory::GetTypeId());
        socket->Bind();
        socket->SetIpTtl(255);  // long paths must not expire (ns-3's default TTL is 64)
        socket->Connect(ns3::InetSocketAddress(peer, port));
        if (model == CBR) {
            mark = uni->GetValue() * mean * 8.0 / rate;
        } else if (model == ONOFF) {
            double onStart = expo->GetValue(tauOff, 0.0);
            onEnd = onStart + expo->GetValue(tauOn, 0.0);
            mark = onStart;
            residual = 0.0;
        }
        ScheduleNext(0.0);
    }

    void StopApplication() override {
        ns3::Simulator::Cancel(event);
    }

    double DrawSize() {
        if (dist == FIXED) {
            return mean;
        }
        if (dist == EXPONENTIAL) {
            return expo->GetValue(mean, 0.0);
        }
        return uni->GetValue() < p ? small : large;
    }

    double OnOffNext(double bits) {
        while (true) {
            double t = mark + (bits - residual) / rate;
            if (t < onEnd) {
                mark = t;
                residual = 0.0;
                return t;
            }
            residual += (onEnd - mark) * rate;
            double onStart = onEnd + expo->GetValue(tauOff, 0.0);
            onEnd = onStart + expo->GetValue(tauOn, 0.0);
            mark = onStart;
            if (onStart >= duration) {
                return std::numeric_limits<double>::infinity();
            }
        }
    }

    void ScheduleNext(double now) {
        nextSize = DrawSize();
        double t;
        if (model == CBR) {
            t = mark + count * mean * 8.0 / rate;
            count += 1;
        } else if (model == POISSON) {
            t = now + expo->GetValue(mean * 8.0 / rate, 0.0);
        } else {
            t = OnOffNext(nextSize * 8.0);
        }
        if (!(t < duration)) {
            return;
        }
        int64_t at = std::llround((offset + t) * 1e9);
        int64_t delay = std::max<int64_t>(0, at - ns3::Simulator::Now().GetNanoSeconds());
        event = ns3::Simulator::Schedule(ns3::NanoSeconds(delay), &Source::Send, this);
    }

    void Send() {
        double whole = std::floor(nextSize);
        double frac = nextSize - whole;
        uint64_t bytes = static_cast<uint64_t>(whole);
        if (frac > 0.0 && uni->GetValue() < frac) {
            bytes += 1;
        }
        bytes = std::max<uint64_t>(bytes, headerBytes);
        auto packet = ns3::Create<ns3::Packet>(static_cast<uint32_t>(bytes - headerBytes));
        StampTag tag;
        tag.flow = flow;
        tag.seq = seq++;
        tag.sent = ns3::Simulator::Now().GetNanoSeconds();
        packet->AddPacketTag(tag);
        rec->packets += 1;
        if (rec->Measured(tag.sent)) {
            rec->tx[flow] += 1;
        }
        socket->Send(packet);
        ScheduleNext(ns3::Simulator::Now().GetSeconds() - offset);
    }

    Recorder* rec = nullptr;
    uint32_t flow = 0;
    ns3::Ipv4Address peer;
    uint16_t port = 9;
    int model = CBR;
    double rate = 1.0, tauOn = 0.0, tauOff = 0.0;
    int dist = FIXED;
    double mean = 0.0, small = 0.0, large = 0.0, p = 0.5;
    uint32_t headerBytes = 0;
    double offset = 0.0, duration = 0.0;

    ns3::Ptr<ns3::UniformRandomVariable> uni;
    ns3::Ptr<ns3::ExponentialRandomVariable> expo;
    ns3::Ptr<ns3::Socket> socket;
    ns3::EventId event;
    double mark = 0.0, onEnd = 0.0, residual = 0.0, nextSize = 0.0;
    int64_t count = 0;
    uint32_t seq = 0;
};

// An ns-3 fatal error, as ns-3 raises them: prints the message and aborts the process (fault injection).
inline void Fatal(const std::string& why) {
    NS_FATAL_ERROR(why);
}

inline ns3::Ptr<Source> MakeSource() { return ns3::CreateObject<Source>(); }

inline void UninstallQueueDiscs(ns3::NetDeviceContainer devices) {
    ns3::TrafficControlHelper tch;
    tch.Uninstall(devices);
}

// Rate (bit/s), DropTail queue of `queuePackets` waiting packets and MTU of one point-to-point device.
inline void ConfigureP2p(ns3::Ptr<ns3::NetDevice> device, uint64_t bitRate, uint32_t queuePackets, uint16_t mtu) {
    auto dev = ns3::DynamicCast<ns3::PointToPointNetDevice>(device);
    dev->SetDataRate(ns3::DataRate(bitRate));
    auto queue = ns3::CreateObject<ns3::DropTailQueue<ns3::Packet>>();
    queue->SetMaxSize(ns3::QueueSize(ns3::QueueSizeUnit::PACKETS, queuePackets));
    dev->SetQueue(queue);
    dev->SetMtu(mtu);
}

// 802.11b ad hoc devices on `nodes` at the given positions, log-distance path loss, constant-rate manager.
// With a neighbour graph (pairs graphSrc[i]-graphDst[i] losing graphLoss[i] dB, both ways), a loss matrix replaces
// the log-distance model: the listed pairs hear each other at that loss, every other pair not at all (as through a
// wall), so frames neither arrive nor interfere off the graph. Returns the devices; random streams from `stream` on.
inline ns3::NetDeviceContainer InstallAdhocWifi(ns3::NodeContainer nodes, const std::vector<double>& xs,
                                                const std::vector<double>& ys, double exponent,
                                                double referenceLoss, double txPower, double rxSensitivity,
                                                const std::string& mode, int64_t stream,
                                                const std::vector<int>& graphSrc, const std::vector<int>& graphDst,
                                                const std::vector<double>& graphLoss) {
    ns3::MobilityHelper mobility;
    auto positions = ns3::CreateObject<ns3::ListPositionAllocator>();
    for (size_t i = 0; i < xs.size(); ++i) {
        positions->Add(ns3::Vector(xs[i], ys[i], 0.0));
    }
    mobility.SetPositionAllocator(positions);
    mobility.SetMobilityModel("ns3::ConstantPositionMobilityModel");
    mobility.Install(nodes);

    ns3::YansWifiChannelHelper channel;
    channel.SetPropagationDelay("ns3::ConstantSpeedPropagationDelayModel");
    channel.AddPropagationLoss("ns3::LogDistancePropagationLossModel", "Exponent", ns3::DoubleValue(exponent),
                               "ReferenceDistance", ns3::DoubleValue(1.0), "ReferenceLoss",
                               ns3::DoubleValue(referenceLoss));
    ns3::Ptr<ns3::YansWifiChannel> medium = channel.Create();
    if (!graphSrc.empty()) {
        auto matrix = ns3::CreateObject<ns3::MatrixPropagationLossModel>();
        matrix->SetDefaultLoss(std::numeric_limits<double>::max());
        for (size_t i = 0; i < graphSrc.size(); ++i) {
            matrix->SetLoss(nodes.Get(graphSrc[i])->GetObject<ns3::MobilityModel>(),
                            nodes.Get(graphDst[i])->GetObject<ns3::MobilityModel>(), graphLoss[i], true);
        }
        medium->SetPropagationLossModel(matrix);
    }
    ns3::YansWifiPhyHelper phy;
    phy.SetChannel(medium);
    phy.Set("TxPowerStart", ns3::DoubleValue(txPower));
    phy.Set("TxPowerEnd", ns3::DoubleValue(txPower));
    phy.Set("RxSensitivity", ns3::DoubleValue(rxSensitivity));

    ns3::WifiHelper wifi;
    wifi.SetStandard(ns3::WIFI_STANDARD_80211b);
    wifi.SetRemoteStationManager("ns3::ConstantRateWifiManager", "DataMode", ns3::StringValue(mode),
                                 "ControlMode", ns3::StringValue(mode));
    ns3::WifiMacHelper mac;
    mac.SetType("ns3::AdhocWifiMac");
    auto devices = wifi.Install(phy, mac, nodes);
    wifi.AssignStreams(devices, stream);
    return devices;
}

// Internet stack with OLSR (and static routing for local routes) on `nodes`; random streams from `stream` on.
inline void InstallOlsrStack(ns3::NodeContainer nodes, int64_t stream) {
    ns3::OlsrHelper olsr;
    ns3::Ipv4StaticRoutingHelper staticRouting;
    ns3::Ipv4ListRoutingHelper list;
    list.Add(staticRouting, 0);
    list.Add(olsr, 10);
    ns3::InternetStackHelper internet;
    internet.SetRoutingHelper(list);
    internet.Install(nodes);
    olsr.AssignStreams(nodes, stream);
}

}  // namespace nettwin
"""

_DEFINED = False


def define():
    """Compile the helpers into this process (once) and return the ``cppyy.gbl.nettwin`` namespace.

    Importing ns-3 is part of this: call it in a worker process, never in the caller's.
    """
    global _DEFINED
    import cppyy
    from ns import ns  # noqa: F401  (loads the ns-3 libraries and headers)

    if not _DEFINED:
        cppyy.cppdef(CPP_SOURCE)
        _DEFINED = True
    return cppyy.gbl.nettwin
